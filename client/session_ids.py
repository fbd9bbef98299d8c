"""Runtime session ids: generated at a length AgentCore accepts (33-256 characters)."""

from __future__ import annotations

import re
import uuid
from typing import Final

MIN_LENGTH: Final = 33
MAX_LENGTH: Final = 256
_PATTERN: Final = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_-]*")


def new_session_id(prefix: str = "session") -> str:
    """A fresh random session id, e.g. ``session-<32 hex digits>`` (40 characters)."""
    session_id = f"{prefix}-{uuid.uuid4().hex}"
    check_session_id(session_id)
    return session_id


def check_session_id(session_id: str) -> str:
    """Return ``session_id`` if AgentCore would accept it, else raise ValueError saying why."""
    if not MIN_LENGTH <= len(session_id) <= MAX_LENGTH:
        raise ValueError(f"session id must be {MIN_LENGTH}-{MAX_LENGTH} characters, got {len(session_id)}")
    if _PATTERN.fullmatch(session_id) is None:
        raise ValueError("session id may contain only letters, digits, '-' and '_'")
    return session_id
