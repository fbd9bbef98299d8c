"""Errors the API answers with: a stable code and a safe message.

AgentCore drops the body of any non-2xx container answer (the caller only sees
``Received error (NNN) from runtime``), so every error a caller must read travels as
HTTP 200 with ``{"error": {"code", "message"}}``. Only a failure of the agent itself is non-2xx.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An application-level refusal, answered as ``{"error": {"code", "message"}}``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        """The JSON body sent to the caller."""
        return {"error": {"code": self.code, "message": self.message}}


def invalid_payload(message: str) -> ApiError:
    """The body is not a JSON object we can read."""
    return ApiError("InvalidPayload", message)


def invalid_field(field: str, message: str) -> ApiError:
    """A named field is missing, unknown, mistyped or out of bounds."""
    return ApiError("InvalidField", f"{field}: {message}")


def task_not_found(task_id: str, detail: str = "") -> ApiError:
    """No task with this id in the caller's session (other sessions are never revealed)."""
    return ApiError("TaskNotFound", f"no task {task_id} in this session{detail}")


def result_expired(task_id: str) -> ApiError:
    """The record names a result object that is gone: asking again cannot bring it back."""
    message = f"the result of task {task_id} is no longer stored; start the task again"
    return ApiError("ResultExpired", message)


def record_unreadable(task_id: str) -> ApiError:
    """The task's record cannot be read by this version of the agent (a newer version's, or damaged);
    retrying does not help, a version that can read it may."""
    return ApiError(
        "RecordUnreadable", f"task {task_id}'s record cannot be read by this version of the agent"
    )


def storage_unavailable() -> ApiError:
    """The task store could not be reached after retries: the caller should retry."""
    return ApiError("StorageUnavailable", "task storage is unavailable; retry")


def shutting_down() -> ApiError:
    """This process received SIGTERM: the next call reaches a new microVM."""
    return ApiError("ShuttingDown", "this microVM is stopping; retry and a new one will answer")


class StoreUnavailableError(Exception):
    """The task store could not be reached after retries."""
