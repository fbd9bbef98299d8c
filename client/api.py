"""The client library: the agent's payload API over boto3's ``bedrock-agentcore`` client."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Final

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoRegionError

from client.backoff import Backoff
from client.errors import AgentError, BadAnswer, agent_error, service_error, transport_error
from client.models import TaskResult
from client.session_ids import check_session_id
from client.target import Target, TargetError

__all__ = ["AgentClient", "AgentError", "WaitTimeout", "boto_client", "decode_response"]

MAX_WAIT_SECONDS: Final = 60


class WaitTimeout(Exception):
    """``wait`` gave up before the task finished; ``last`` is the last answer seen, ``last_error``
    the last failed call (if the last attempt failed)."""

    def __init__(
        self, task_id: str, last: TaskResult | None, *, last_error: AgentError | None = None
    ) -> None:
        super().__init__(f"task {task_id} did not finish in time")
        self.last = last
        self.last_error = last_error


RetryReporter = Callable[[AgentError, float], None]
"""Told of each failed call ``wait`` retries: the error and the pause before the next try."""


def boto_client(target: Target, *, read_timeout: float = MAX_WAIT_SECONDS + 30) -> Any:
    """A ``bedrock-agentcore`` client for ``target``; long enough read timeout for long-polls.

    Against the emulator (an endpoint URL) without AWS credentials, requests go unsigned.
    """
    session = boto3.Session(region_name=target.region or target.arn_region)
    extra: dict[str, Any] = {}
    if target.endpoint_url and session.get_credentials() is None:
        extra["signature_version"] = botocore.UNSIGNED
    config = Config(read_timeout=read_timeout, retries={"mode": "standard", "max_attempts": 3}, **extra)
    try:
        return session.client("bedrock-agentcore", endpoint_url=target.endpoint_url, config=config)
    except NoRegionError:
        raise TargetError(
            f"no AWS region: the runtime ARN {target.runtime_arn} names none and none is configured; "
            "pass --region or set AWS_DEFAULT_REGION"
        ) from None


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
            raise _from_client_error(error) from None
        except BotoCoreError as error:
            raise transport_error(error) from None
        answer = decode_response(str(response.get("contentType", "application/json")), body)
        # The agent's refusals travel in a 2xx answer (AgentCore drops non-2xx bodies). A task
        # record may carry an "error" too (FAILED, LOST); only an error without a status is a refusal.
        if isinstance(answer, dict) and isinstance(answer.get("error"), dict) and "status" not in answer:
            err = answer["error"]
            raise agent_error(str(err.get("code", "AgentError")), str(err.get("message", "")))
        return answer

    def start(
        self, duration: float, *, result_bytes: int | None = None, client_token: str | None = None
    ) -> str:
        """Start the seed's ``sleep`` work of ``duration`` seconds; returns its task id at once."""
        payload: dict[str, Any] = {"action": "start_background_task", "duration": duration}
        if result_bytes is not None:
            payload["result_bytes"] = result_bytes
        return self._started(payload, client_token)

    def start_task(
        self,
        kind: str,
        task_input: dict[str, Any] | None = None,
        *,
        client_token: str | None = None,
        retention: str | None = None,
    ) -> str:
        """Start a task of a registered ``kind`` with its input; returns its task id at once."""
        payload: dict[str, Any] = {"action": "start_task", "kind": kind, "input": task_input or {}}
        if retention is not None:
            payload["retention"] = retention
        return self._started(payload, client_token)

    def kinds(self) -> list[dict[str, Any]]:
        """The agent's task kinds: name, description, input JSON schema, whether resumable."""
        kinds = self._object(self.invoke({"action": "list_kinds"})).get("kinds")
        if not isinstance(kinds, list):
            raise BadAnswer("BadAnswer", "the agent's answer has no kinds")
        return kinds

    def _started(self, payload: dict[str, Any], client_token: str | None) -> str:
        if client_token is not None:
            payload["client_token"] = client_token
        answer = self._object(self.invoke(payload))
        task_id = answer.get("task_id")
        if not isinstance(task_id, str):
            raise BadAnswer("BadAnswer", "the agent's answer has no task_id")
        return task_id

    def result(self, task_id: str, *, wait_seconds: int = 0) -> TaskResult:
        """The task's state; ``wait_seconds`` long-polls until it finishes or the wait ends."""
        payload: dict[str, Any] = {"action": "get_task_result", "task_id": task_id}
        if wait_seconds:
            payload["wait_seconds"] = wait_seconds
        return self._task(self.invoke(payload))

    def wait(
        self,
        task_id: str,
        timeout: float,
        *,
        on_update: Callable[[TaskResult], None] | None = None,
        on_retry: RetryReporter | None = None,
    ) -> TaskResult:
        """Poll until the task finishes; raises :class:`WaitTimeout` after ``timeout`` seconds.

        Each poll long-polls up to ``long_poll_seconds``. A poll the runtime did not hold, or a
        retryable error (the store or the endpoint is down, the microVM is being replaced), is
        followed by a capped, jittered exponential backoff; ``on_retry`` hears of each such error.
        Other errors are raised.
        """
        deadline = self._monotonic() + timeout
        attempt = 0
        last: TaskResult | None = None
        last_error: AgentError | None = None
        while True:
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                raise WaitTimeout(task_id, last, last_error=last_error)
            wait_seconds = int(min(self._long_poll, remaining))
            began = self._monotonic()
            try:
                last = self.result(task_id, wait_seconds=wait_seconds)
            except AgentError as error:
                if not error.retryable:
                    raise
                last_error = error
            else:
                last_error = None
                if on_update is not None:
                    on_update(last)
                if last.status.finished:
                    return last
                if wait_seconds > 0 and self._monotonic() - began >= wait_seconds / 2:
                    attempt = 0
                    continue
            pause = min(self._backoff.delay(attempt), max(0.0, deadline - self._monotonic()))
            if last_error is not None and on_retry is not None:
                on_retry(last_error, pause)
            self._sleep(pause)
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
            raise _from_client_error(error) from None
        except BotoCoreError as error:
            raise transport_error(error) from None

    @staticmethod
    def _object(answer: Any) -> dict[str, Any]:
        if not isinstance(answer, dict):
            raise BadAnswer(
                "BadAnswer", f"expected a JSON object from the agent, got {type(answer).__name__}"
            )
        return answer

    def _task(self, answer: Any) -> TaskResult:
        try:
            return TaskResult.from_payload(self._object(answer))
        except ValueError as error:
            raise BadAnswer("BadAnswer", str(error)) from None


def _from_client_error(error: ClientError) -> AgentError:
    details = error.response.get("Error", {})
    return service_error(str(details.get("Code", "Unknown")), str(details.get("Message", "")))
