"""Session ids the emulated data plane hands out (the rule they follow lives in :mod:`contract`)."""

from __future__ import annotations

import uuid

from agentcore_async.contract import session_id_problem


def runtime_session_id_problem(session_id: str) -> str | None:
    """Why the data plane refuses ``session_id`` as ``runtimeSessionId``, or None when it is valid."""
    problem = session_id_problem(session_id)
    return None if problem is None else f"runtimeSessionId {problem}"


def generated_session_id() -> str:
    """A fresh session id for a call that named none (AWS starts a new session then)."""
    return f"emulator-{uuid.uuid4()}"
