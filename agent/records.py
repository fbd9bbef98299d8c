"""The task record: the single source of truth about a background task."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any, Literal

Retention = Literal["durable", "ephemeral"]


class TaskStatus(enum.StrEnum):
    """States of the task status machine; only RUNNING may change, and only once."""

    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    LOST = "LOST"
    """How a RUNNING record reads when its heartbeat is older than the lease; stored directly
    when the agent is stopped (SIGTERM) mid-task."""

    @property
    def finished(self) -> bool:
        """True for the terminal states."""
        return self is not TaskStatus.RUNNING


@dataclass(frozen=True)
class TaskRecord:
    """One background task as stored by every backend."""

    session_id: str
    task_id: str
    status: TaskStatus
    duration: float
    result_bytes: int
    created_at: float
    updated_at: float
    heartbeat_at: float
    expires_at: int
    progress: float = 0.0
    retention: Retention = "durable"
    client_token: str | None = None
    start_id: str | None = None
    """Unique per start call: a store that finds the record already written by the same call (a
    retried write whose first reply was lost) reports it as this start's own."""
    result: str | None = None
    result_key: str | None = None
    result_size: int | None = None
    error_code: str | None = None
    error_message: str | None = None

    def replace(self, **changes: Any) -> TaskRecord:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)

    def to_item(self) -> dict[str, Any]:
        """Plain dict of every field (status as its string), for serialising stores."""
        item = dataclasses.asdict(self)
        item["status"] = self.status.value
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> TaskRecord:
        """Inverse of :meth:`to_item`; tolerates missing optional fields."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {key: value for key, value in item.items() if key in names}
        values["status"] = TaskStatus(values["status"])
        for key in ("duration", "created_at", "updated_at", "heartbeat_at", "progress"):
            values[key] = float(values[key]) if key in values else 0.0
        for key in ("result_bytes", "expires_at"):
            values[key] = int(values[key])
        if values.get("result_size") is not None:
            values["result_size"] = int(values["result_size"])
        return cls(**values)
