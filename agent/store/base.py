"""The storage Protocol every task backend implements.

Methods are blocking; the engine calls them from a thread pool so the event loop
never waits on I/O. Transitions are conditional writes: a record leaves RUNNING
at most once, and a finished record never changes again.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol

from agent.records import TaskRecord, TaskStatus


@dataclass(frozen=True)
class Page:
    """One page of a newest-first listing; ``cursor`` fetches the next page."""

    records: list[TaskRecord]
    cursor: str | None


@dataclass(frozen=True)
class Cursor:
    """Keyset position of the last record returned: (created_at, task_id)."""

    created_at: float
    task_id: str

    def encode(self) -> str:
        """Opaque string handed to clients."""
        raw = json.dumps([self.created_at, self.task_id]).encode()
        return base64.urlsafe_b64encode(raw).decode()

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """Inverse of :meth:`encode`; raises ``ValueError`` on anything else."""
        try:
            created_at, task_id = json.loads(base64.urlsafe_b64decode(token.encode()))
        except Exception as exc:  # any malformed token is the caller's problem
            raise ValueError("malformed cursor") from exc
        if not isinstance(created_at, (int, float)) or not isinstance(task_id, str):
            raise ValueError("malformed cursor")
        return cls(float(created_at), task_id)

    @classmethod
    def after(cls, record: TaskRecord) -> Cursor:
        """The cursor pointing just past ``record``."""
        return cls(record.created_at, record.task_id)


def live(record: TaskRecord, now: float) -> bool:
    """True while ``record`` has not expired."""
    return record.expires_at >= now


def live_now(record: TaskRecord | None) -> TaskRecord | None:
    """``record`` unless it has expired by the wall clock: how every store's reads treat expiry."""
    return record if record is not None and live(record, time.time()) else None


def replaceable(existing: TaskRecord | None, record: TaskRecord) -> bool:
    """Whether creating ``record`` may write over ``existing``: nothing is there, or what is there had
    expired when ``record`` was created (a client_token's id outlives its task)."""
    return existing is None or not live(existing, record.created_at)


def owned_by(record: TaskRecord, owner: str | None) -> bool:
    """True when ``record`` belongs to ``owner`` (None: to no caller, as under IAM auth)."""
    return record.owner == owner


def older_than(record: TaskRecord, cursor: Cursor | None) -> bool:
    """True when ``record`` sorts after ``cursor`` in newest-first order."""
    if cursor is None:
        return True
    return (record.created_at, record.task_id) < (cursor.created_at, cursor.task_id)


@dataclass(frozen=True)
class Beat:
    """What a running attempt writes while it works: progress, liveness and, optionally, a checkpoint."""

    progress: float
    message: str | None
    at: float
    expires_at: int
    checkpoint: tuple[str | None, str | None] | None = None
    """``(inline JSON, blob key)`` of a new checkpoint (one of them set); None leaves it unchanged."""


def apply_beat(record: TaskRecord, beat: Beat) -> TaskRecord:
    """``record`` with ``beat`` applied (for stores that rewrite whole records)."""
    changes: dict[str, object] = {
        "progress": beat.progress,
        "message": beat.message,
        "heartbeat_at": beat.at,
        "updated_at": beat.at,
        "expires_at": max(record.expires_at, beat.expires_at),
    }
    if beat.checkpoint is not None:
        changes["checkpoint"], changes["checkpoint_key"] = beat.checkpoint
    return record.replace(**changes)


UNFINISHED_STATUSES: Final = (TaskStatus.RUNNING.value, TaskStatus.SUSPENDED.value)
"""The stored statuses a new microVM may resume (``unfinished``)."""


def accepts(
    record: TaskRecord | None, expected: TaskStatus, attempt: int, beat_at: float | None = None
) -> bool:
    """Whether a conditional write expecting ``expected`` at ``attempt`` (and, with ``beat_at``,
    no heartbeat since that one) may replace ``record``."""
    return (
        record is not None
        and record.status is expected
        and record.attempt == attempt
        and (beat_at is None or record.heartbeat_at == beat_at)
    )


class TaskStore(Protocol):
    """Durable (or, for Redis, ephemeral) storage of task records.

    Every change after creation is conditional on the stored status and attempt, so a record
    leaves a state at most once and an older attempt can never overwrite a newer one.
    """

    def create(self, record: TaskRecord) -> TaskRecord:
        """Insert ``record`` unless a live record has its (session, task id); return the stored record.

        A record that had expired when ``record`` was created is replaced (see :func:`replaceable`):
        an expired task never answers for a reused client_token.

        Callers tell their own write from an earlier one by ``start_id``: a write retried after a
        lost reply finds itself already stored, which is still a success.
        """
        ...

    def get(self, session_id: str, task_id: str) -> TaskRecord | None:
        """The record, or None if this session has no such task or its record has expired (a
        record past ``expires_at`` is read by nobody, though the store may not have removed it yet)."""
        ...

    def beat(self, session_id: str, task_id: str, attempt: int, beat: Beat) -> bool:
        """Apply ``beat`` while the record is RUNNING at ``attempt``; False otherwise."""
        ...

    def transition(
        self, record: TaskRecord, expected: TaskStatus, attempt: int, *, beat_at: float | None = None
    ) -> bool:
        """Replace the stored record with ``record`` only if it is ``expected`` at ``attempt`` and,
        with ``beat_at``, its last heartbeat is still that one: a reader settling a lease that ran
        out never overwrites a checkpoint the (slow, not dead) attempt wrote since it read."""
        ...

    def clear_announced(self, session_id: str, task_id: str, status: TaskStatus, attempt: int) -> bool:
        """Drop what the record owes (``announce_pending``) and change nothing else, only while it
        is still ``status`` at ``attempt``; False otherwise.

        Never a write of a whole record read earlier: a stale image must not replace a change
        fenced on the same (status, attempt), as a resume claiming a SUSPENDED record is, where a
        store checks a condition and writes in separate steps (moto's DynamoDB does)."""
        ...

    def unfinished(self, session_id: str) -> list[TaskRecord]:
        """Every unexpired RUNNING or SUSPENDED record of the session (what a new microVM may resume)."""
        ...

    def announcing(self, session_id: str) -> list[TaskRecord]:
        """Every unexpired record of the session that still owes an announcement (``announce_pending``)."""
        ...

    def open_records(self, session_id: str) -> list[TaskRecord]:
        """In one read, what a session's first invocation in a process acts on: the records of
        :meth:`unfinished` and of :meth:`announcing`, each once."""
        ...

    def list(
        self, session_id: str, limit: int, cursor: Cursor | None, now: float, owner: str | None = None
    ) -> list[TaskRecord]:
        """Up to ``limit`` records of the session and ``owner`` older than ``cursor``, newest first,
        skipping records expired at ``now`` (still present until the store's own expiry removes
        them). ``owner`` None lists the records without an owner (IAM auth)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class BlobStore(Protocol):
    """Object storage for results too large to keep in a task record."""

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes stored under ``key``."""
        ...

    def presign(self, key: str, expires_in: int) -> str:
        """A time-limited HTTPS GET URL for ``key``."""
        ...


class ResultCache(Protocol):
    """Read-through cache of finished task records for hot polling."""

    def get(self, session_id: str, task_id: str) -> TaskRecord | None:
        """The cached finished record, or None."""
        ...

    def put(self, record: TaskRecord) -> None:
        """Cache a finished record."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@dataclass(frozen=True)
class Stores:
    """The storage the engine writes to; only ``tasks`` is required."""

    tasks: TaskStore
    ephemeral: TaskStore | None = None
    cache: ResultCache | None = None
    blobs: BlobStore | None = None
    blob_key: Callable[[TaskRecord], str] | None = None

    def close(self) -> None:
        """Close every store."""
        self.tasks.close()
        if self.ephemeral is not None:
            self.ephemeral.close()
        if self.cache is not None:
            self.cache.close()
