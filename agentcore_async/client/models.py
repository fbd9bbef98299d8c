"""What the agent reports about a task."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from agentcore_async.contract import UNREADABLE_STATUS


class TaskStatus(StrEnum):
    """A task's status; all but RUNNING and SUSPENDED are final."""

    RUNNING = "RUNNING"
    SUSPENDED = "SUSPENDED"
    """Its microVM ended; the session's next invocation resumes it from its last checkpoint."""
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    LOST = "LOST"
    UNREADABLE = UNREADABLE_STATUS
    """The agent cannot read this task's record (a newer version's, or damaged); reading it
    answers ``RecordUnreadable``."""

    @property
    def finished(self) -> bool:
        """Whether the status can no longer change."""
        return self not in (TaskStatus.RUNNING, TaskStatus.SUSPENDED)


@dataclass(frozen=True, kw_only=True)
class TaskResult:
    """One ``get_task_result`` answer."""

    task_id: str
    status: TaskStatus
    kind: str | None = None
    attempt: int | None = None
    """Which microVM run of the task this is (1, then one more per resume)."""
    progress: float | None = None
    message: str | None = None
    result: Any = None
    result_url: str | None = None
    error: Any = None
    created_at: Any = None
    updated_at: Any = None

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> TaskResult:
        """Parse the agent's JSON answer; raises ValueError if it is not a task."""
        try:
            status = TaskStatus(payload["status"])
            task_id = str(payload["task_id"])
        except (KeyError, ValueError, TypeError):
            raise ValueError(f"not a task result: {sorted(payload)}") from None
        progress = payload.get("progress")
        attempt = payload.get("attempt")
        message = payload.get("message")
        kind = payload.get("kind")
        return cls(
            task_id=task_id,
            status=status,
            kind=kind if isinstance(kind, str) else None,
            attempt=attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else None,
            progress=float(progress) if isinstance(progress, int | float) else None,
            message=message if isinstance(message, str) else None,
            result=payload.get("result"),
            result_url=payload.get("result_url"),
            error=payload.get("error"),
            created_at=payload.get("created_at"),
            updated_at=payload.get("updated_at"),
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, omitting empty fields."""
        fields = {
            "task_id": self.task_id,
            "status": self.status.value,
            "kind": self.kind,
            "attempt": self.attempt,
            "progress": self.progress,
            "message": self.message,
            "result": self.result,
            "result_url": self.result_url,
            "error": self.error,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
        return {key: value for key, value in fields.items() if value is not None}
