"""A small state file remembering the session id, so later commands reach the same microVM.

Commands that may create a session do "load the saved one, else create and save one" under an
exclusive lock on a sidecar file (``<state file>.lock``), so concurrent starts share one session.
Writes go to a uniquely named temporary file in the same directory and replace the state file
atomically, so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from agentcore_async.client.session_ids import check_session_id, new_session_id

ENV_STATE_FILE: Final = "AGENTCORE_STATE_FILE"
DEFAULT_STATE_FILE: Final = Path(".agentcore-session.json")


class StateFileError(Exception):
    """The state file (or its lock or directory) cannot be read or written."""


def default_state_file() -> Path:
    """``$AGENTCORE_STATE_FILE`` or ``.agentcore-session.json`` in the working directory."""
    value = os.environ.get(ENV_STATE_FILE)
    return Path(value) if value else DEFAULT_STATE_FILE


@dataclass(frozen=True)
class SessionState:
    """The remembered session of one runtime."""

    path: Path

    @property
    def lock_path(self) -> Path:
        """The sidecar file whose lock serialises session creation (it is never deleted)."""
        return self.path.with_name(self.path.name + ".lock")

    def load(self, runtime_arn: str) -> str | None:
        """The saved session id for ``runtime_arn``; None when there is none (no file, another
        runtime, a corrupt file). Raises :class:`StateFileError` when the file cannot be read."""
        saved = self.saved()
        return saved[1] if saved is not None and saved[0] == runtime_arn else None

    def saved(self) -> tuple[str, str] | None:
        """``(runtime ARN, session id)`` as saved, whichever runtime it is for; None when the file
        is missing or unusable. Raises :class:`StateFileError` when it cannot be read."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as error:
            raise StateFileError(self._problem("cannot read", error)) from None
        try:
            saved = json.loads(text)
        except ValueError:
            return None
        if not isinstance(saved, dict) or not isinstance(saved.get("runtime_arn"), str):
            return None
        session_id = saved.get("session_id")
        try:
            checked = check_session_id(session_id) if isinstance(session_id, str) else None
        except ValueError:
            return None
        return None if checked is None else (saved["runtime_arn"], checked)

    def save(self, runtime_arn: str, session_id: str) -> None:
        """Remember ``session_id`` for ``runtime_arn``."""
        check_session_id(session_id)
        with self._locked():
            self._write(runtime_arn, session_id)

    def session_for(
        self, runtime_arn: str, *, fresh: bool = False, create: Callable[[], str] = new_session_id
    ) -> tuple[str, bool]:
        """The saved session of ``runtime_arn``, else (or when ``fresh``) a new one, saved.

        Returns ``(session_id, created)``. Runs under the lock, so concurrent callers without a
        saved session all get the one the first of them created.
        """
        with self._locked():
            saved = None if fresh else self.load(runtime_arn)
            if saved is not None:
                return saved, False
            session_id = check_session_id(create())
            self._write(runtime_arn, session_id)
            return session_id, True

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise StateFileError(self._problem("cannot lock", error)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _write(self, runtime_arn: str, session_id: str) -> None:
        text = json.dumps({"runtime_arn": runtime_arn, "session_id": session_id}) + "\n"
        try:
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        except OSError as error:
            raise StateFileError(self._problem("cannot write", error)) from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(text)
            Path(tmp).replace(self.path)
        except OSError as error:
            with contextlib.suppress(OSError):
                Path(tmp).unlink()
            raise StateFileError(self._problem("cannot write", error)) from None

    def _problem(self, what: str, error: OSError) -> str:
        return f"{what} the state file {self.path}: {error.strerror or error}"
