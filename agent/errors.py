"""Errors the API answers with: a stable code, an HTTP status and a safe message."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error that maps to ``{"error": {"code", "message"}}`` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        """The JSON body sent to the caller."""
        return {"error": {"code": self.code, "message": self.message}}


def invalid_payload(message: str) -> ApiError:
    """The body is not a JSON object we can read."""
    return ApiError(400, "InvalidPayload", message)


def invalid_field(field: str, message: str) -> ApiError:
    """A named field is missing, unknown, mistyped or out of bounds."""
    return ApiError(400, "InvalidField", f"{field}: {message}")


def task_not_found(task_id: str) -> ApiError:
    """No task with this id in the caller's session (other sessions are never revealed)."""
    return ApiError(404, "TaskNotFound", f"no task {task_id} in this session")


class StoreUnavailableError(Exception):
    """The task store could not be reached after retries."""
