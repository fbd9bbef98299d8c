"""Runtime session ids for the benchmarks (AgentCore wants 33-256 characters)."""

from __future__ import annotations

import uuid


def new_session_id(label: str) -> str:
    """A fresh session id naming what it is used for."""
    return f"bench-{label}-{uuid.uuid4()}"
