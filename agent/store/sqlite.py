"""Embedded SQLite store: the local default, durable across process restarts.

Writes go through one writer thread that commits whatever is queued in one transaction (group
commit): fifty starts arriving together cost a few commits, not fifty turns of one lock, and each
caller is answered once the transaction holding its own write has committed. Reads use one
connection per thread, which WAL mode lets run beside the writer.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Final, TypeVar

from agent.records import TaskRecord, TaskStatus
from agent.store.base import Beat, Cursor, accepts, apply_beat, live, live_now
from agent.store.decoding import record_from_json
from agent.store.retries import SQLITE_BUSY_SECONDS
from agentcore_async.contract import SQLITE_RECORD_QUERY

T = TypeVar("T")
Write = Callable[[sqlite3.Connection], Any]

MAX_BATCH: Final = 256
"""Most writes committed in one transaction."""

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


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=SQLITE_BUSY_SECONDS)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


class SqliteStore:
    """Task records in one SQLite file: a group-committing writer thread and per-thread readers."""

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
        try:
            self._writer_conn = _connect(path)
            self._writer_conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            if "not a database" in str(exc):
                raise UnusablePathError(f"{path} is not a SQLite database") from None
            raise UnusablePathError(f"{path} cannot be opened: {exc}") from None
        self._path = path
        self._readers = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._queue: queue.SimpleQueue[tuple[Write, Future[Any]] | None] = queue.SimpleQueue()
        self._closed = False
        self._closing = threading.Lock()
        """Held while a write is queued and while the store closes: no write queues after the stop."""
        self._writer = threading.Thread(target=self._write_loop, name="sqlite-writer", daemon=True)
        self._writer.start()

    # ---- the writer ----------------------------------------------------------------------

    @property
    def queued_writes(self) -> int:
        """Writes waiting for the writer thread (not yet in a transaction)."""
        return self._queue.qsize()

    def trace_writes(self, callback: Callable[[str], None] | None) -> None:
        """Have ``callback`` called with each SQL statement the writer runs (None stops it); for
        seeing how writes are grouped into transactions. Set it while no write is in flight."""
        self._writer_conn.set_trace_callback(callback)

    def _write(self, write: Callable[[sqlite3.Connection], T]) -> T:
        """Queue ``write`` for the writer thread; return its result once its transaction committed."""
        future: Future[T] = Future()
        with self._closing:
            if self._closed:
                raise sqlite3.ProgrammingError("the store is closed")
            self._queue.put((write, future))
        return future.result()

    def _write_loop(self) -> None:
        conn = self._writer_conn
        while (first := self._queue.get()) is not None:
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(item)
            self._commit(conn, batch)
        conn.close()

    @staticmethod
    def _commit(conn: sqlite3.Connection, batch: list[tuple[Write, Future[Any]]]) -> None:
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for write, future in batch:
                # A savepoint per write: one failing write does not undo the others.
                conn.execute("SAVEPOINT one")
                try:
                    outcomes.append((future, write(conn), None))
                    conn.execute("RELEASE one")
                except Exception as exc:
                    conn.execute("ROLLBACK TO one")
                    conn.execute("RELEASE one")
                    outcomes.append((future, None, exc))
            conn.execute("COMMIT")
        except Exception as exc:  # the transaction itself failed: nothing of the batch is stored
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for _write, future in batch:
                future.set_exception(exc)
            return
        for future, result, error in outcomes:
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)

    # ---- readers -------------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._readers, "conn", None)
        if conn is None:
            conn = _connect(self._path)
            self._readers.conn = conn
            with self._readers_lock:
                self._reader_conns.append(conn)
        return conn

    # ---- the TaskStore protocol ----------------------------------------------------------

    def create(self, record: TaskRecord) -> TaskRecord:
        """Insert unless a live record is present (an expired one is replaced); return the stored record."""

        def write(conn: sqlite3.Connection) -> TaskRecord:
            conn.execute(
                "INSERT INTO tasks (session_id, task_id, status, created_at, record) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (session_id, task_id) DO UPDATE SET status = excluded.status,"
                " created_at = excluded.created_at, record = excluded.record"
                " WHERE json_extract(tasks.record, '$.expires_at') < excluded.created_at",
                (record.session_id, record.task_id, record.status.value, record.created_at, _dump(record)),
            )
            stored = _get(conn, record.session_id, record.task_id)
            if stored is None:  # pragma: no cover - the row was just written in this transaction
                raise RuntimeError("record vanished after insert")
            return stored

        return self._write(write)

    def get(self, session_id: str, task_id: str) -> TaskRecord | None:
        """The record, or None (also once expired)."""
        return live_now(_get(self._reader(), session_id, task_id))

    def beat(self, session_id: str, task_id: str, attempt: int, beat: Beat) -> bool:
        """Apply a beat to a RUNNING record of this attempt (read and write in the writer)."""

        def write(conn: sqlite3.Connection) -> bool:
            current = _get(conn, session_id, task_id)
            if current is None or not accepts(current, TaskStatus.RUNNING, attempt):
                return False
            conn.execute(
                "UPDATE tasks SET record = ? WHERE session_id = ? AND task_id = ?",
                (_dump(apply_beat(current, beat)), session_id, task_id),
            )
            return True

        return self._write(write)

    def transition(
        self, record: TaskRecord, expected: TaskStatus, attempt: int, *, beat_at: float | None = None
    ) -> bool:
        """Conditional update: only a row that is ``expected`` at ``attempt`` (and, with ``beat_at``,
        still carries that heartbeat) changes."""

        def write(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE tasks SET status = ?, record = ? WHERE session_id = ? AND task_id = ?"
                " AND status = ? AND json_extract(record, '$.attempt') = ?"
                " AND (? IS NULL OR json_extract(record, '$.heartbeat_at') = ?)",
                (
                    record.status.value,
                    _dump(record),
                    record.session_id,
                    record.task_id,
                    expected.value,
                    attempt,
                    beat_at,
                    beat_at,
                ),
            )
            return cursor.rowcount == 1

        return self._write(write)

    def clear_announced(self, session_id: str, task_id: str, status: TaskStatus, attempt: int) -> bool:
        """Conditional update of the one field: an empty ``announce_pending`` in the stored JSON,
        only while the row is ``status`` at ``attempt``."""

        def write(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE tasks SET record = json_set(record, '$.announce_pending', json('[]'))"
                " WHERE session_id = ? AND task_id = ? AND status = ?"
                " AND json_extract(record, '$.attempt') = ?",
                (session_id, task_id, status.value, attempt),
            )
            return cursor.rowcount == 1

        return self._write(write)

    def unfinished(self, session_id: str) -> list[TaskRecord]:
        """RUNNING and SUSPENDED records of the session."""
        rows = (
            self._reader()
            .execute(
                "SELECT session_id, task_id, record FROM tasks WHERE session_id = ? AND status IN (?, ?)",
                (session_id, TaskStatus.RUNNING.value, TaskStatus.SUSPENDED.value),
            )
            .fetchall()
        )
        return _live(record_from_json(*row) for row in rows)

    def announcing(self, session_id: str) -> list[TaskRecord]:
        """Records of the session that still owe an announcement."""
        rows = (
            self._reader()
            .execute(
                "SELECT session_id, task_id, record FROM tasks WHERE session_id = ?"
                " AND json_array_length(record, '$.announce_pending') > 0",
                (session_id,),
            )
            .fetchall()
        )
        return _live(record_from_json(*row) for row in rows)

    def open_records(self, session_id: str) -> list[TaskRecord]:
        """Records of the session that are RUNNING or SUSPENDED or still owe an announcement."""
        rows = (
            self._reader()
            .execute(
                "SELECT session_id, task_id, record FROM tasks WHERE session_id = ? AND (status IN (?, ?)"
                " OR json_array_length(record, '$.announce_pending') > 0)",
                (session_id, TaskStatus.RUNNING.value, TaskStatus.SUSPENDED.value),
            )
            .fetchall()
        )
        return _live(record_from_json(*row) for row in rows)

    def list(
        self, session_id: str, limit: int, cursor: Cursor | None, now: float, owner: str | None = None
    ) -> list[TaskRecord]:
        """Newest first by (created_at, task_id), keyset-paginated, live records of ``owner`` only."""
        after = "" if cursor is None else " AND (created_at, task_id) < (?, ?)"
        params: tuple[object, ...] = (session_id, now, owner)
        if cursor is not None:
            params += (cursor.created_at, cursor.task_id)
        rows = (
            self._reader()
            .execute(
                "SELECT session_id, task_id, record FROM tasks"
                " WHERE session_id = ? AND json_extract(record, '$.expires_at') >= ?"
                " AND json_extract(record, '$.owner') IS ?"
                f"{after} ORDER BY created_at DESC, task_id DESC LIMIT ?",
                (*params, limit),
            )
            .fetchall()
        )
        return [record_from_json(*row) for row in rows]

    def close(self) -> None:
        """Let the writer finish what is queued, then close every connection."""
        with self._closing:
            self._closed = True
            self._queue.put(None)
        self._writer.join(timeout=30)
        with self._readers_lock:
            for conn in self._reader_conns:
                conn.close()
            self._reader_conns.clear()


def _get(conn: sqlite3.Connection, session_id: str, task_id: str) -> TaskRecord | None:
    row = conn.execute(SQLITE_RECORD_QUERY, (session_id, task_id)).fetchone()
    return None if row is None else record_from_json(session_id, task_id, row[0])


def _live(records: Iterable[TaskRecord]) -> list[TaskRecord]:
    # In Python, not SQL: an unreadable record's stand-in carries the expiry it could read.
    now = time.time()
    return [record for record in records if live(record, now)]


def _dump(record: TaskRecord) -> str:
    return json.dumps(record.to_item(), separators=(",", ":"))
