"""Small polling helpers for the agent tests."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from tests.support.agent_process import DEFAULT_SESSION, AgentProcess
from tests.support.waiting import eventually

__all__ = ["eventually", "get_task", "new_session", "start_kind", "start_once", "start_task"]

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


def start_kind(agent: AgentProcess, session: str, kind: str, task_input: dict[str, Any]) -> str:
    """start_task of ``kind`` with ``task_input``; return its id (asserting the immediate RUNNING answer)."""
    status, body = agent.invoke({"action": "start_task", "kind": kind, "input": task_input}, session)
    assert (status, body.get("status")) == (200, "RUNNING"), body
    return str(body["task_id"])


def start_once(agent: AgentProcess, session: str, duration: float) -> str:
    """Start work of the ``once`` kind (not resumable) and return its id."""
    return start_kind(agent, session, "once", {"duration": duration})


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
