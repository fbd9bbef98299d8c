"""The task life cycle as pure functions: which status may become which, by whom and under which
fence, and the lease, expiry, settle and resume decisions as functions of (record, now, settings).

Nothing here reads a clock or a store: the caller passes ``now`` and writes what is decided.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from agent.records import TaskRecord, TaskStatus
from agent.settings import Settings

LOST_MESSAGE = "the task stopped reporting (its microVM ended); start it again"


class Actor(enum.Enum):
    """Who changes a stored record."""

    ATTEMPT = "attempt"
    """The attempt running the task: its outcome, or SUSPENDED/LOST when its process stops."""
    SETTLE = "settle"
    """A reader that found the attempt's lease run out."""
    RESUME = "resume"
    """A process taking up a SUSPENDED task (or ending it when it may not be resumed)."""
    CANCEL = "cancel"
    """A caller's cancel of a task no attempt of this process runs."""
    CLOSE_START = "close start"
    """A start whose create answered an error, closing the record it may have written."""


_S = TaskStatus
TRANSITIONS: Final[Mapping[Actor, Mapping[TaskStatus, frozenset[TaskStatus]]]] = {
    Actor.ATTEMPT: {
        _S.RUNNING: frozenset({_S.COMPLETED, _S.FAILED, _S.CANCELLED, _S.SUSPENDED, _S.LOST}),
    },
    Actor.SETTLE: {_S.RUNNING: frozenset({_S.SUSPENDED, _S.LOST})},
    Actor.RESUME: {_S.SUSPENDED: frozenset({_S.RUNNING, _S.LOST, _S.FAILED})},
    Actor.CANCEL: {_S.RUNNING: frozenset({_S.CANCELLED}), _S.SUSPENDED: frozenset({_S.CANCELLED})},
    Actor.CLOSE_START: {_S.RUNNING: frozenset({_S.FAILED})},
}
"""Every change a record may go through after its creation. A final status has no row: it never
changes again."""


@dataclass(frozen=True)
class Change:
    """One conditional write: ``record`` replaces the stored record only while that is still
    ``expected`` at ``attempt`` (and, with ``beat_at``, has had no heartbeat since that one)."""

    record: TaskRecord
    expected: TaskStatus
    attempt: int
    beat_at: float | None = None


def change(by: Actor, current: TaskRecord, new: TaskRecord) -> Change:
    """The fenced write that moves ``current`` to ``new``; raises ``ValueError`` for a change the
    table does not allow ``by``. Every write fences on status and attempt; a settle also fences on
    the heartbeat it read, so a slow (not dead) attempt's checkpoint written since wins."""
    if new.status not in TRANSITIONS[by].get(current.status, frozenset()):
        raise ValueError(f"{by.value} may not change {current.status} to {new.status}")
    beat_at = current.heartbeat_at if by is Actor.SETTLE else None
    return Change(new, current.status, current.attempt, beat_at)


def ttl_of(retention: str, settings: Settings) -> int:
    """How long a record of ``retention`` is kept once it stops changing."""
    return settings.ephemeral_ttl_seconds if retention == "ephemeral" else settings.result_ttl_seconds


def running_expiry(now: float, retention: str, settings: Settings) -> int:
    """A running record outlives its last sign of life by the lease and the TTL."""
    return int(now + settings.lease_seconds + ttl_of(retention, settings))


def final_expiry(now: float, retention: str, settings: Settings) -> int:
    """A final (or suspended) record is kept for the TTL from ``now``."""
    return int(now + ttl_of(retention, settings))


def ended(
    record: TaskRecord,
    status: TaskStatus,
    code: str | None,
    message: str | None,
    now: float,
    *,
    keep_checkpoint: bool = False,
    **fields: Any,
) -> TaskRecord:
    """``record`` moved to ``status`` at ``now``, with its error (if any) and without its result
    and (unless kept, as SUSPENDED keeps it) its checkpoint."""
    progress = 1.0 if status is TaskStatus.COMPLETED else record.progress
    values: dict[str, Any] = {"result": None, "result_key": None, "result_size": None, **fields}
    if not keep_checkpoint:
        values |= {"checkpoint": None, "checkpoint_key": None}
    return record.replace(
        status=status, updated_at=now, progress=progress, error_code=code, error_message=message, **values
    )


def adoption_deadline(record: TaskRecord, settings: Settings) -> float:
    """Until when a record whose start answered an error waits for a client-token retry to adopt
    it: one heartbeat before its lease runs out. Every reader takes the record for live work until
    the lease ends anyway (as after a kill), and after that readers settle it themselves; the
    heartbeat left over is time for the closing write. With the defaults (10 s, 60 s) a retry has
    50 s, longer than a client's capped backoff."""
    return record.heartbeat_at + settings.lease_seconds - settings.heartbeat_seconds


def lease_expired(record: TaskRecord, now: float, settings: Settings) -> bool:
    """Whether ``record``'s last heartbeat is older than the lease."""
    return now - record.heartbeat_at > settings.lease_seconds


def status_of(
    record: TaskRecord, now: float, settings: Settings, resumable: bool | None, *, ours: bool = False
) -> TaskStatus:
    """The status a caller sees: a RUNNING record (not run by this process, ``ours``) whose lease
    ran out is SUSPENDED, or LOST when its kind is known (``resumable`` not None) not to resume."""
    if record.status is not TaskStatus.RUNNING or ours or not lease_expired(record, now, settings):
        return record.status
    return TaskStatus.LOST if resumable is False else TaskStatus.SUSPENDED


def settlement(
    record: TaskRecord, now: float, settings: Settings, resumable: bool | None, *, ours: bool = False
) -> TaskRecord | None:
    """What a reader writes over a RUNNING record whose lease ran out (SUSPENDED with its
    checkpoint, or LOST), or None when there is nothing to settle."""
    status = status_of(record, now, settings, resumable, ours=ours)
    if record.status is not TaskStatus.RUNNING or status is TaskStatus.RUNNING:
        return None
    if status is TaskStatus.SUSPENDED:
        settled = ended(record, status, None, None, now, keep_checkpoint=True)
    else:
        settled = ended(record, status, "TaskLost", LOST_MESSAGE, now)
    return settled.replace(expires_at=final_expiry(now, record.retention, settings))


def resumption(
    record: TaskRecord, now: float, settings: Settings, resumable: bool | None
) -> TaskRecord | None:
    """What a process writes over a SUSPENDED record: its next attempt RUNNING, or a final record
    instead, LOST for a kind that is not resumable (suspended by an image that did not register it;
    such work must not run twice), FAILED ResumeLimit once it used up ``AGENT_MAX_ATTEMPTS``. None
    leaves it alone: not SUSPENDED, or a kind this image does not know (one that does decides)."""
    if record.status is not TaskStatus.SUSPENDED or resumable is None:
        return None
    if not resumable:
        final = ended(record, TaskStatus.LOST, "TaskLost", LOST_MESSAGE, now)
    elif record.attempt >= settings.max_attempts:
        message = f"the task was resumed in {record.attempt} microVMs (AGENT_MAX_ATTEMPTS) without finishing"
        final = ended(record, TaskStatus.FAILED, "ResumeLimit", message, now)
    else:
        return record.replace(
            status=TaskStatus.RUNNING,
            attempt=record.attempt + 1,
            heartbeat_at=now,
            updated_at=now,
            expires_at=running_expiry(now, record.retention, settings),
        )
    return final.replace(expires_at=final_expiry(now, record.retention, settings))
