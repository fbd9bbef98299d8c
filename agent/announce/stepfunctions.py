"""Complete a Step Functions task token with a task's final state."""

from __future__ import annotations

import logging
from typing import Any, Final

import boto3
from botocore.exceptions import ClientError

from agent.announce.detail import MAX_CAUSE_CHARS, MAX_ERROR_CHARS, callback_output
from agent.records import TaskRecord, TaskStatus
from agent.store.failures import error_code
from agent.store.retries import aws_config

log = logging.getLogger("agent.announce")

CLOSED_TOKEN_CODES: Final = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})
"""Answers saying the token can never be completed (timed out, already completed, unknown):
the callback is as done as it will ever be, so it counts as delivered."""


class TaskTokenCallbacks:
    """SendTaskSuccess for COMPLETED, SendTaskFailure (error code, message) for every other final
    state; botocore's standard retries cover throttling, 5xx and lost connections."""

    def __init__(self, *, bucket_name: str | None, attempts: int) -> None:
        self._bucket = bucket_name
        self._attempts = attempts
        self._client: Any = None
        """Made on first use: most agents never get a task token, and need no region for it."""

    def complete(self, record: TaskRecord) -> None:
        """Report ``record``'s final state to the token it carries."""
        token = record.callback_token
        if token is None or not record.status.finished:
            return
        if self._client is None:
            config = aws_config(attempts=self._attempts, max_connections=4, read_timeout=5)
            self._client = boto3.session.Session().client("stepfunctions", config=config)
        try:
            self._send(record, token)
        except ClientError as exc:
            code = error_code(exc)
            if code not in CLOSED_TOKEN_CODES:
                raise
            log.info("task token already closed", extra={"task_id": record.task_id, "error_code": code})

    def _send(self, record: TaskRecord, token: str) -> None:
        if record.status is TaskStatus.COMPLETED:
            self._client.send_task_success(taskToken=token, output=callback_output(record, self._bucket))
            return
        self._client.send_task_failure(
            taskToken=token,
            error=(record.error_code or record.status.value)[:MAX_ERROR_CHARS],
            cause=(record.error_message or "")[:MAX_CAUSE_CHARS],
        )

    def close(self) -> None:
        """Close the HTTP connection pool."""
        if self._client is not None:
            self._client.close()
