"""Starts one agent task for a Step Functions execution and returns the agent's answer.

InvokeAgentRuntime answers with a streaming body, which Step Functions' AWS SDK integrations do not
read; this function reads it. A start the agent refuses raises, so the execution fails at once
instead of waiting for a callback that never comes.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
from botocore.config import Config

_AGENTCORE = boto3.client("bedrock-agentcore", config=Config(retries={"mode": "standard", "max_attempts": 3}))


class StartRefused(Exception):
    """The agent answered the start with ``{"error": {...}}``."""


def handler(event: dict[str, Any], _context: object) -> Any:
    """``event``: ``{"session_id": ..., "payload": "<the start request as JSON>"}``."""
    response = _AGENTCORE.invoke_agent_runtime(
        agentRuntimeArn=os.environ["AGENT_RUNTIME_ARN"],
        runtimeSessionId=event["session_id"],
        contentType="application/json",
        accept="application/json",
        payload=event["payload"].encode(),
    )
    answer = json.loads(response["response"].read())
    if isinstance(answer, dict) and "error" in answer:
        raise StartRefused(json.dumps(answer["error"]))
    return answer
