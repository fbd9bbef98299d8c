"""Runtime session ids: generated at a length AgentCore accepts, checked by the shared rule."""

from __future__ import annotations

import uuid

from agentcore_async.contract import session_id_problem


def new_session_id(prefix: str = "session") -> str:
    """A fresh random session id, e.g. ``session-<32 hex digits>`` (40 characters)."""
    session_id = f"{prefix}-{uuid.uuid4().hex}"
    check_session_id(session_id)
    return session_id


def check_session_id(session_id: str) -> str:
    """Return ``session_id`` if AgentCore would accept it, else raise ValueError saying why."""
    problem = session_id_problem(session_id)
    if problem is not None:
        raise ValueError(f"session id {problem}")
    return session_id
