"""Small polling helpers for the agent tests."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from tests.support.agent_process import DEFAULT_SESSION, AgentProcess

T = TypeVar("T")


def new_session() -> str:
    """A fresh runtime session id of valid length."""
    return f"session-{uuid.uuid4()}"


def start_task(agent: AgentProcess, session: str = DEFAULT_SESSION, **fields: Any) -> str:
    """Start a task and return its id (asserting the immediate RUNNING answer)."""
    status, body = agent.invoke({"action": "start_background_task", "duration": 0.5, **fields}, session)
    assert status == 200, body
    assert body["status"] == "RUNNING"
    return str(body["task_id"])


def get_task(
    agent: AgentProcess, task_id: str, session: str = DEFAULT_SESSION, wait: float = 0
) -> dict[str, Any]:
    """get_task_result, asserting HTTP 200."""
    payload: dict[str, Any] = {"action": "get_task_result", "task_id": task_id}
    if wait:
        payload["wait_seconds"] = wait
    status, body = agent.invoke(payload, session, timeout=wait + 30)
    assert status == 200, body
    return body


def eventually(check: Callable[[], T | None], timeout: float = 15.0, interval: float = 0.05) -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)
