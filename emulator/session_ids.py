"""Validation of runtime session ids as the AgentCore data plane enforces it."""

from __future__ import annotations

import re
import uuid
from typing import Final

MIN_LENGTH: Final = 33
MAX_LENGTH: Final = 256
_PATTERN: Final = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_-]*")


def session_id_problem(session_id: str) -> str | None:
    """Return why ``session_id`` is not a valid runtime session id, or None when it is."""
    if not MIN_LENGTH <= len(session_id) <= MAX_LENGTH:
        return f"runtimeSessionId must be {MIN_LENGTH}-{MAX_LENGTH} characters long, got {len(session_id)}"
    if _PATTERN.fullmatch(session_id) is None:
        return (
            "runtimeSessionId may contain only letters, digits, '-' and '_', starting with a letter or digit"
        )
    return None


def generated_session_id() -> str:
    """A fresh session id for a call that named none (AWS starts a new session then)."""
    return f"emulator-{uuid.uuid4()}"
