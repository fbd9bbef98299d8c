"""One client for async agents on AgentCore Runtime, deployed or emulated.

It drives boto3's ``bedrock-agentcore`` client; only ``endpoint_url`` differs between AWS and
the local emulator.
"""

from client.api import AgentClient, AgentError, WaitTimeout
from client.models import TaskResult, TaskStatus

__all__ = ["AgentClient", "AgentError", "TaskResult", "TaskStatus", "WaitTimeout"]
