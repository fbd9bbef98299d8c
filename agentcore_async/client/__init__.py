"""One client for async agents on AgentCore Runtime, deployed or emulated.

It drives boto3's ``bedrock-agentcore`` client; only ``endpoint_url`` differs between AWS and
the local emulator. With a bearer token (a runtime with a JWT authorizer) the same calls go over
HTTPS with ``Authorization: Bearer`` instead of SigV4. Failed calls raise :class:`AgentError`
subclasses carrying the agent's or AWS's code and message.
"""

from agentcore_async.client.api import AgentClient, WaitTimeout
from agentcore_async.client.errors import (
    AccessDenied,
    AgentError,
    AgentFailed,
    BadAnswer,
    ClientTokenConflict,
    ConfigurationError,
    ConnectionFailed,
    InvalidInput,
    RequestInvalid,
    ResourceNotFound,
    RuntimeUnavailable,
    ServiceError,
    ServiceUnavailable,
    ShuttingDown,
    StorageUnavailable,
    TaskNotFound,
    Throttled,
    Unauthorized,
)
from agentcore_async.client.models import TaskResult, TaskStatus
from agentcore_async.client.target import TargetError
from agentcore_async.client.version import __version__

__all__ = [
    "AccessDenied",
    "AgentClient",
    "AgentError",
    "AgentFailed",
    "BadAnswer",
    "ClientTokenConflict",
    "ConfigurationError",
    "ConnectionFailed",
    "InvalidInput",
    "RequestInvalid",
    "ResourceNotFound",
    "RuntimeUnavailable",
    "ServiceError",
    "ServiceUnavailable",
    "ShuttingDown",
    "StorageUnavailable",
    "TargetError",
    "TaskNotFound",
    "TaskResult",
    "TaskStatus",
    "Throttled",
    "Unauthorized",
    "WaitTimeout",
    "__version__",
]
