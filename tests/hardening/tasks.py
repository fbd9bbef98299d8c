"""Task helpers over a real agent process (HTTP status and body checked on every call)."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from tests.support.agent_process import AgentProcess
from tests.support.waiting import eventually

T = TypeVar("T")


def new_session() -> str:
    """A fresh runtime session id that AgentCore accepts (41 characters)."""
    return f"hardening-{uuid.uuid4().hex[:31]}"


def start(agent: AgentProcess, session: str, duration: float, **fields: Any) -> dict[str, Any]:
    """start_background_task; asserts HTTP 200 and returns the body."""
    status, body = agent.invoke({"action": "start_background_task", "duration": duration, **fields}, session)
    assert status == 200, body
    return body


def start_once(agent: AgentProcess, session: str, duration: float, **fields: Any) -> dict[str, Any]:
    """start_task of the ``once`` kind (work that is not resumable); asserts HTTP 200, returns the body."""
    payload = {"action": "start_task", "kind": "once", "input": {"duration": duration}, **fields}
    status, body = agent.invoke(payload, session)
    assert status == 200 and "error" not in body, body
    return body


def get(agent: AgentProcess, session: str, task_id: str, wait: float = 0.0) -> dict[str, Any]:
    """get_task_result; asserts HTTP 200 and returns the task view."""
    payload: dict[str, Any] = {"action": "get_task_result", "task_id": task_id}
    if wait:
        payload["wait_seconds"] = wait
    status, body = agent.invoke(payload, session, timeout=wait + 30)
    assert status == 200, body
    return body


def list_ids(agent: AgentProcess, session: str) -> list[str]:
    """Every task id of the session, following cursors."""
    ids: list[str] = []
    cursor: str | None = None
    while True:
        payload: dict[str, Any] = {"action": "list_tasks", "limit": 100}
        if cursor:
            payload["cursor"] = cursor
        status, body = agent.invoke(payload, session)
        assert status == 200, body
        ids += [task["task_id"] for task in body["tasks"]]
        cursor = body["next_cursor"]
        if not cursor:
            return ids


def finished(agent: AgentProcess, session: str, task_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """The task's view once it has left RUNNING."""
    return eventually(
        lambda: (
            (view := get(agent, session, task_id, wait=min(5.0, timeout)))["status"] != "RUNNING" and view
        ),
        timeout,
        f"task {task_id} to finish",
    )
