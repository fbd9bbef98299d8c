"""A small state file remembering the session id, so later commands reach the same microVM."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from client.session_ids import check_session_id

ENV_STATE_FILE: Final = "AGENTCORE_STATE_FILE"
DEFAULT_STATE_FILE: Final = Path(".agentcore-session.json")


def default_state_file() -> Path:
    """``$AGENTCORE_STATE_FILE`` or ``.agentcore-session.json`` in the working directory."""
    value = os.environ.get(ENV_STATE_FILE)
    return Path(value) if value else DEFAULT_STATE_FILE


@dataclass(frozen=True)
class SessionState:
    """The remembered session of one runtime."""

    path: Path

    def load(self, runtime_arn: str) -> str | None:
        """The saved session id for ``runtime_arn``, or None (missing, unreadable, other runtime)."""
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(saved, dict) or saved.get("runtime_arn") != runtime_arn:
            return None
        session_id = saved.get("session_id")
        try:
            return check_session_id(session_id) if isinstance(session_id, str) else None
        except ValueError:
            return None

    def save(self, runtime_arn: str, session_id: str) -> None:
        """Remember ``session_id`` for ``runtime_arn`` (written atomically)."""
        check_session_id(session_id)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(
            json.dumps({"runtime_arn": runtime_arn, "session_id": session_id}) + "\n", encoding="utf-8"
        )
        tmp.replace(self.path)
