"""Embedded SQLite store: the local default, durable across process restarts."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from agent.records import TaskRecord, TaskStatus
from agent.store.base import Beat, Cursor, accepts, apply_beat

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    session_id TEXT NOT NULL,
    task_id    TEXT NOT NULL,
    status     TEXT NOT NULL,
    created_at REAL NOT NULL,
    record     TEXT NOT NULL,
    PRIMARY KEY (session_id, task_id)
);
CREATE INDEX IF NOT EXISTS tasks_by_created_at ON tasks (session_id, created_at DESC, task_id DESC);
"""


class UnusablePathError(ValueError):
    """The configured path cannot hold the database (a directory, another kind of file, ...)."""


class SqliteStore:
    """One WAL-mode connection shared behind a lock (SQLite serialises writers anyway)."""

    def __init__(self, path: Path) -> None:
        """Open (or create) the database; raises :class:`UnusablePathError` saying what is wrong."""
        if path.is_dir():
            raise UnusablePathError(f"{path} is a directory")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise UnusablePathError(f"{path}: a parent is not a directory") from None
        except OSError as exc:
            raise UnusablePathError(f"{path}: cannot create its directory ({exc.strerror})") from None
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            if "not a database" in str(exc):
                raise UnusablePathError(f"{path} is not a SQLite database") from None
            raise UnusablePathError(f"{path} cannot be opened: {exc}") from None

    def create(self, record: TaskRecord) -> TaskRecord:
        """Insert unless present; return the stored record."""
        with self._lock:
            self._conn.execute(
                "INSERT OR IGNORE INTO tasks (session_id, task_id, status, created_at, record)"
                " VALUES (?, ?, ?, ?, ?)",
                (record.session_id, record.task_id, record.status.value, record.created_at, _dump(record)),
            )
            stored = self._get_locked(record.session_id, record.task_id)
        if stored is None:  # pragma: no cover - the row was just written under the lock
            raise RuntimeError("record vanished after insert")
        return stored

    def get(self, session_id: str, task_id: str) -> TaskRecord | None:
        """The record or None."""
        with self._lock:
            return self._get_locked(session_id, task_id)

    def _get_locked(self, session_id: str, task_id: str) -> TaskRecord | None:
        row = self._conn.execute(
            "SELECT record FROM tasks WHERE session_id = ? AND task_id = ?", (session_id, task_id)
        ).fetchone()
        return None if row is None else _load(row[0])

    def beat(self, session_id: str, task_id: str, attempt: int, beat: Beat) -> bool:
        """Apply a beat to a RUNNING record of this attempt (read-modify-write in one transaction)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                current = self._get_locked(session_id, task_id)
                if current is None or not accepts(current, TaskStatus.RUNNING, attempt):
                    return False
                self._conn.execute(
                    "UPDATE tasks SET record = ? WHERE session_id = ? AND task_id = ?",
                    (_dump(apply_beat(current, beat)), session_id, task_id),
                )
                return True
            finally:
                self._conn.execute("COMMIT")

    def transition(self, record: TaskRecord, expected: TaskStatus, attempt: int) -> bool:
        """Conditional update: only a row that is ``expected`` at ``attempt`` changes."""
        with self._lock:
            cursor = self._conn.execute(
                "UPDATE tasks SET status = ?, record = ? WHERE session_id = ? AND task_id = ?"
                " AND status = ? AND json_extract(record, '$.attempt') = ?",
                (
                    record.status.value,
                    _dump(record),
                    record.session_id,
                    record.task_id,
                    expected.value,
                    attempt,
                ),
            )
            return cursor.rowcount == 1

    def unfinished(self, session_id: str) -> list[TaskRecord]:
        """RUNNING and SUSPENDED records of the session."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT record FROM tasks WHERE session_id = ? AND status IN (?, ?)",
                (session_id, TaskStatus.RUNNING.value, TaskStatus.SUSPENDED.value),
            ).fetchall()
        return [_load(row[0]) for row in rows]

    def list(self, session_id: str, limit: int, cursor: Cursor | None, now: float) -> list[TaskRecord]:
        """Newest first by (created_at, task_id), keyset-paginated, live records only."""
        after = "" if cursor is None else " AND (created_at, task_id) < (?, ?)"
        params: tuple[object, ...] = (session_id, now)
        if cursor is not None:
            params += (cursor.created_at, cursor.task_id)
        with self._lock:
            rows = self._conn.execute(
                "SELECT record FROM tasks WHERE session_id = ? AND json_extract(record, '$.expires_at') >= ?"
                f"{after} ORDER BY created_at DESC, task_id DESC LIMIT ?",
                (*params, limit),
            ).fetchall()
        return [_load(row[0]) for row in rows]

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()


def _dump(record: TaskRecord) -> str:
    return json.dumps(record.to_item(), separators=(",", ":"))


def _load(text: str) -> TaskRecord:
    return TaskRecord.from_item(json.loads(text))
