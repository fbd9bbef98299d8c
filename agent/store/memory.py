"""In-process store for tests only: everything is lost when the process ends."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from agent.records import TaskRecord, TaskStatus
from agent.store.base import (
    Beat,
    Cursor,
    accepts,
    apply_beat,
    live,
    live_now,
    older_than,
    owned_by,
    replaceable,
)


class MemoryStore:
    """A dict behind a lock; the settings refuse it unless explicitly allowed."""

    def __init__(self) -> None:
        self._records: dict[tuple[str, str], TaskRecord] = {}
        self._lock = threading.Lock()

    def create(self, record: TaskRecord) -> TaskRecord:
        """Insert unless a live record is present; return the stored record."""
        key = (record.session_id, record.task_id)
        with self._lock:
            if replaceable(self._records.get(key), record):
                self._records[key] = record
            return self._records[key]

    def get(self, session_id: str, task_id: str) -> TaskRecord | None:
        """The record, or None (also once expired)."""
        with self._lock:
            return live_now(self._records.get((session_id, task_id)))

    def beat(self, session_id: str, task_id: str, attempt: int, beat: Beat) -> bool:
        """Apply a beat to a RUNNING record of this attempt."""
        with self._lock:
            current = self._records.get((session_id, task_id))
            if current is None or not accepts(current, TaskStatus.RUNNING, attempt):
                return False
            self._records[(session_id, task_id)] = apply_beat(current, beat)
            return True

    def transition(
        self, record: TaskRecord, expected: TaskStatus, attempt: int, *, beat_at: float | None = None
    ) -> bool:
        """Replace the record if it is ``expected`` at ``attempt`` (beating at ``beat_at``)."""
        key = (record.session_id, record.task_id)
        with self._lock:
            if not accepts(self._records.get(key), expected, attempt, beat_at):
                return False
            self._records[key] = record
            return True

    def clear_announced(self, session_id: str, task_id: str, status: TaskStatus, attempt: int) -> bool:
        """Drop what the record owes while it is ``status`` at ``attempt``."""
        key = (session_id, task_id)
        with self._lock:
            current = self._records.get(key)
            if current is None or not accepts(current, status, attempt):
                return False
            self._records[key] = current.replace(announce_pending=())
            return True

    def unfinished(self, session_id: str) -> list[TaskRecord]:
        """Unexpired RUNNING and SUSPENDED records of the session."""
        return self._live_of(session_id, lambda r: not r.status.finished)

    def announcing(self, session_id: str) -> list[TaskRecord]:
        """Unexpired records of the session that still owe an announcement."""
        return self._live_of(session_id, lambda r: bool(r.announce_pending))

    def open_records(self, session_id: str) -> list[TaskRecord]:
        """Unexpired records of the session that are unfinished or owe an announcement."""
        return self._live_of(session_id, lambda r: not r.status.finished or bool(r.announce_pending))

    def _live_of(self, session_id: str, keep: Callable[[TaskRecord], bool]) -> list[TaskRecord]:
        now = time.time()
        with self._lock:
            return [r for (s, _), r in self._records.items() if s == session_id and keep(r) and live(r, now)]

    def list(
        self, session_id: str, limit: int, cursor: Cursor | None, now: float, owner: str | None = None
    ) -> list[TaskRecord]:
        """Newest first, after the cursor, live records of ``owner`` only."""
        with self._lock:
            mine = [
                r
                for (s, _), r in self._records.items()
                if s == session_id and owned_by(r, owner) and older_than(r, cursor) and live(r, now)
            ]
        mine.sort(key=lambda r: (r.created_at, r.task_id), reverse=True)
        return mine[:limit]

    def close(self) -> None:
        """Nothing to release."""
