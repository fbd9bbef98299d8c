"""The client library: the agent's payload API over boto3's ``bedrock-agentcore`` client."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any, Final

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from client.backoff import Backoff
from client.models import TaskResult
from client.session_ids import check_session_id
from client.target import Target

RETRYABLE_CODES: Final = frozenset(
    {"ThrottlingException", "RetryableConflictException", "InternalServerException", "ServiceUnavailable"}
)
MAX_WAIT_SECONDS: Final = 60
AGENT_UNAVAILABLE: Final = re.compile(r"Received error \(503\) from runtime")
"""How the runtime relays an agent's 503 (StorageUnavailable, NotReady): worth retrying."""


class AgentError(Exception):
    """The runtime or the agent refused a call; ``code`` is the AWS or agent error code."""

    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable


class WaitTimeout(Exception):
    """``wait`` gave up before the task finished; ``last`` is the last answer seen."""

    def __init__(self, task_id: str, last: TaskResult | None) -> None:
        super().__init__(f"task {task_id} did not finish in time")
        self.last = last


def boto_client(target: Target, *, read_timeout: float = MAX_WAIT_SECONDS + 30) -> Any:
    """A ``bedrock-agentcore`` client for ``target``; long enough read timeout for long-polls.

    Against the emulator (an endpoint URL) without AWS credentials, requests go unsigned.
    """
    session = boto3.Session(region_name=target.region or target.arn_region)
    extra: dict[str, Any] = {}
    if target.endpoint_url and session.get_credentials() is None:
        extra["signature_version"] = botocore.UNSIGNED
    config = Config(read_timeout=read_timeout, retries={"mode": "standard", "max_attempts": 3}, **extra)
    return session.client("bedrock-agentcore", endpoint_url=target.endpoint_url, config=config)


def decode_response(content_type: str, body: bytes) -> Any:
    """JSON answers as parsed JSON; SSE answers as the list of their ``data:`` events."""
    text = body.decode("utf-8")
    if content_type.startswith("text/event-stream"):
        events: list[Any] = []
        for line in text.splitlines():
            if line.startswith("data:"):
                data = line[5:].strip()
                try:
                    events.append(json.loads(data))
                except ValueError:
                    events.append(data)
        return events
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


class AgentClient:
    """Start, poll, wait for and cancel background tasks of one runtime session."""

    def __init__(
        self,
        client: Any,
        *,
        runtime_arn: str,
        session_id: str | None,
        qualifier: str = "DEFAULT",
        backoff: Backoff | None = None,
        long_poll_seconds: int = 20,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 <= long_poll_seconds <= MAX_WAIT_SECONDS:
            raise ValueError(f"long_poll_seconds must be 0-{MAX_WAIT_SECONDS}")
        self._client = client
        self.runtime_arn = runtime_arn
        self.session_id = None if session_id is None else check_session_id(session_id)
        self.qualifier = qualifier
        self._backoff = backoff or Backoff()
        self._long_poll = long_poll_seconds
        self._sleep = sleep
        self._monotonic = monotonic

    @classmethod
    def connect(cls, target: Target, *, session_id: str | None, **kwargs: Any) -> AgentClient:
        """A client for ``target`` over a fresh boto3 client."""
        return cls(
            boto_client(target),
            runtime_arn=target.runtime_arn,
            session_id=session_id,
            qualifier=target.qualifier,
            **kwargs,
        )

    def invoke(self, payload: dict[str, Any]) -> Any:
        """One InvokeAgentRuntime call in this session; returns the decoded answer."""
        params: dict[str, Any] = {
            "agentRuntimeArn": self.runtime_arn,
            "qualifier": self.qualifier,
            "contentType": "application/json",
            "accept": "application/json, text/event-stream",
            "payload": json.dumps(payload).encode("utf-8"),
        }
        if self.session_id is not None:
            params["runtimeSessionId"] = self.session_id
        try:
            response = self._client.invoke_agent_runtime(**params)
            body = response["response"].read()
        except ClientError as error:
            details = error.response.get("Error", {})
            code = str(details.get("Code", "Unknown"))
            status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            message = str(details.get("Message", ""))
            raise AgentError(code, message, retryable=_retryable(code, status, message)) from None
        except BotoCoreError as error:
            raise AgentError("ConnectionError", str(error), retryable=True) from None
        answer = decode_response(str(response.get("contentType", "application/json")), body)
        # A task record may carry an "error" too (FAILED, LOST); only an error-only body is a refusal.
        if isinstance(answer, dict) and isinstance(answer.get("error"), dict) and "status" not in answer:
            err = answer["error"]
            raise AgentError(str(err.get("code", "AgentError")), str(err.get("message", "")))
        return answer

    def start(
        self, duration: float, *, result_bytes: int | None = None, client_token: str | None = None
    ) -> str:
        """Start a background task of ``duration`` seconds; returns its task id at once."""
        payload: dict[str, Any] = {"action": "start_background_task", "duration": duration}
        if result_bytes is not None:
            payload["result_bytes"] = result_bytes
        if client_token is not None:
            payload["client_token"] = client_token
        answer = self._object(self.invoke(payload))
        task_id = answer.get("task_id")
        if not isinstance(task_id, str):
            raise AgentError("BadAnswer", "the agent's answer has no task_id")
        return task_id

    def result(self, task_id: str, *, wait_seconds: int = 0) -> TaskResult:
        """The task's state; ``wait_seconds`` long-polls until it finishes or the wait ends."""
        payload: dict[str, Any] = {"action": "get_task_result", "task_id": task_id}
        if wait_seconds:
            payload["wait_seconds"] = wait_seconds
        return self._task(self.invoke(payload))

    def wait(
        self, task_id: str, timeout: float, *, on_update: Callable[[TaskResult], None] | None = None
    ) -> TaskResult:
        """Poll until the task finishes; raises :class:`WaitTimeout` after ``timeout`` seconds.

        Each poll long-polls up to ``long_poll_seconds``. A poll the runtime did not hold
        (or a retryable error) is followed by a capped, jittered exponential backoff.
        """
        deadline = self._monotonic() + timeout
        attempt = 0
        last: TaskResult | None = None
        while True:
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                raise WaitTimeout(task_id, last)
            wait_seconds = int(min(self._long_poll, remaining))
            began = self._monotonic()
            try:
                last = self.result(task_id, wait_seconds=wait_seconds)
            except AgentError as error:
                if not error.retryable:
                    raise
            else:
                if on_update is not None:
                    on_update(last)
                if last.status.finished:
                    return last
                if wait_seconds > 0 and self._monotonic() - began >= wait_seconds / 2:
                    attempt = 0
                    continue
            self._sleep(min(self._backoff.delay(attempt), max(0.0, deadline - self._monotonic())))
            attempt += 1

    def cancel(self, task_id: str) -> TaskResult:
        """Ask the task to stop (cooperative); returns its state afterwards."""
        answer = self._object(self.invoke({"action": "cancel_task", "task_id": task_id}))
        if "status" in answer:
            return TaskResult.from_payload(answer)
        return self.result(task_id)

    def list(self, *, limit: int | None = None, next_token: str | None = None) -> dict[str, Any]:
        """This session's tasks, newest first (one page); pass the answer's ``next_cursor`` as
        ``next_token`` for the next page."""
        payload: dict[str, Any] = {"action": "list_tasks"}
        if limit is not None:
            payload["limit"] = limit
        if next_token is not None:
            payload["cursor"] = next_token
        return self._object(self.invoke(payload))

    def prompt(self, text: str) -> Any:
        """Send a natural-language prompt to the agent's model."""
        return self.invoke({"prompt": text})

    def stop_session(self) -> None:
        """StopRuntimeSession: terminate this session's microVM now."""
        if self.session_id is None:
            raise ValueError("no session to stop")
        try:
            self._client.stop_runtime_session(
                agentRuntimeArn=self.runtime_arn, qualifier=self.qualifier, runtimeSessionId=self.session_id
            )
        except ClientError as error:
            details = error.response.get("Error", {})
            raise AgentError(str(details.get("Code", "Unknown")), str(details.get("Message", ""))) from None

    @staticmethod
    def _object(answer: Any) -> dict[str, Any]:
        if not isinstance(answer, dict):
            raise AgentError(
                "BadAnswer", f"expected a JSON object from the agent, got {type(answer).__name__}"
            )
        return answer

    def _task(self, answer: Any) -> TaskResult:
        try:
            return TaskResult.from_payload(self._object(answer))
        except ValueError as error:
            raise AgentError("BadAnswer", str(error)) from None


def _retryable(code: str, status: int, message: str) -> bool:
    # The runtime reports an agent's own 503 as RuntimeClientError (424); an agent's 500 is not retried.
    agent_unavailable = code == "RuntimeClientError" and AGENT_UNAVAILABLE.match(message) is not None
    return code in RETRYABLE_CODES or status >= 500 or agent_unavailable
