"""The task record: the single source of truth about a background task."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from agentcore_async.contract import UNREADABLE_STATUS

Retention = Literal["durable", "ephemeral"]
ResultFormat = Literal["text", "json"]


class TaskStatus(enum.StrEnum):
    """States of a task. RUNNING and SUSPENDED may change; every other state is final."""

    RUNNING = "RUNNING"
    SUSPENDED = "SUSPENDED"
    """A resumable task whose microVM ended: its last checkpoint waits for the session's next
    microVM, which resumes it as the next attempt."""
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    LOST = "LOST"
    """A task that is not resumable and whose microVM ended before it finished."""
    UNREADABLE = UNREADABLE_STATUS
    """Only ever read, never written: a record this version cannot read (see
    :mod:`agent.store.decoding`). Counts as finished, so the agent never settles, resumes or
    cancels it."""

    @property
    def finished(self) -> bool:
        """True for the final states."""
        return self not in (TaskStatus.RUNNING, TaskStatus.SUSPENDED)


@dataclass(frozen=True)
class TaskRecord:
    """One background task as stored by every backend."""

    session_id: str
    task_id: str
    status: TaskStatus
    kind: str
    input_json: str
    """The validated input, as canonical JSON (defaults filled in)."""
    created_at: float
    updated_at: float
    heartbeat_at: float
    expires_at: int
    attempt: int = 1
    """Which run of the task this is; every write of an older attempt is rejected (a fencing token)."""
    progress: float = 0.0
    message: str | None = None
    """The work's own progress message."""
    retention: Retention = "durable"
    client_token: str | None = None
    owner: str | None = None
    """The caller's identity (the JWT subject) under JWT auth; only that caller sees the task.
    None under IAM auth, where the session alone decides."""
    start_id: str | None = None
    """Unique per start call: a store that finds the record already written by the same call (a
    retried write whose first reply was lost) reports it as this start's own."""
    checkpoint: str | None = None
    """The work's last checkpoint, as JSON text (or in the blob store under ``checkpoint_key``)."""
    checkpoint_key: str | None = None
    result: str | None = None
    result_format: ResultFormat = "text"
    result_key: str | None = None
    result_size: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    callback_token: str | None = None
    """A Step Functions task token, completed when the task reaches a final state (kept in the
    record so whichever microVM finishes the task can complete it)."""
    announce_pending: tuple[str, ...] = ()
    """The announcements this state still owes (``event``, ``callback``): written with the state in
    one conditional write and cleared once sent, so a process that dies before sending them leaves
    them for the next reader (a transactional outbox)."""

    def replace(self, **changes: Any) -> TaskRecord:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)

    def to_item(self) -> dict[str, Any]:
        """Plain dict of every field (status as its string), for serialising stores."""
        item = dataclasses.asdict(self)
        item["status"] = self.status.value
        item["announce_pending"] = list(self.announce_pending)
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> TaskRecord:
        """Inverse of :meth:`to_item`; tolerates missing optional fields. Raises ``KeyError``,
        ``ValueError`` or ``TypeError`` for a record it cannot read (an unknown status, a field
        of the wrong type)."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {key: value for key, value in item.items() if key in names}
        _check_types(values)
        values["status"] = TaskStatus(values["status"])
        if values["status"] is TaskStatus.UNREADABLE:
            raise ValueError("UNREADABLE is never stored")
        values["announce_pending"] = tuple(values.get("announce_pending") or ())
        for key in ("created_at", "updated_at", "heartbeat_at", "progress"):
            values[key] = float(values[key]) if key in values else 0.0
        for key in ("expires_at", "attempt"):
            if key in values:
                values[key] = int(values[key])
        if values.get("result_size") is not None:
            values["result_size"] = int(values["result_size"])
        return cls(**values)


_TEXT_FIELDS: Final = frozenset(
    f.name for f in dataclasses.fields(TaskRecord) if f.type in ("str", "str | None")
)
"""Fields holding text (``from __future__`` annotations are strings)."""
_OPTIONAL: Final = frozenset(f.name for f in dataclasses.fields(TaskRecord) if f.type == "str | None")


def _check_types(values: dict[str, Any]) -> None:
    """Raise ``TypeError`` or ``ValueError`` for a text field holding something else, or a
    retention or result format this version does not know."""
    for key, value in values.items():
        if key in _TEXT_FIELDS and not isinstance(value, str) and (value is not None or key not in _OPTIONAL):
            raise TypeError(f"{key} is not text")
    pending = values.get("announce_pending") or ()
    if not isinstance(pending, list | tuple) or not all(isinstance(channel, str) for channel in pending):
        raise TypeError("announce_pending is not a list of channels")
    if values.get("retention", "durable") not in get_args(Retention):
        raise ValueError("unknown retention")
    if values.get("result_format", "text") not in get_args(ResultFormat):
        raise ValueError("unknown result format")
