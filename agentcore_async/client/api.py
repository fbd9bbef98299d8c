"""The client library: the agent's payload API over boto3's ``bedrock-agentcore`` client."""

from __future__ import annotations

import builtins
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoRegionError

from agentcore_async.client.backoff import Backoff
from agentcore_async.client.bearer import BearerClient, service_url
from agentcore_async.client.errors import (
    AgentError,
    BadAnswer,
    InvalidInput,
    agent_error,
    service_error,
    transport_error,
)
from agentcore_async.client.models import TaskResult, TaskStatus
from agentcore_async.client.session_ids import check_session_id, new_session_id
from agentcore_async.client.target import Target, TargetError, resolve_target
from agentcore_async.client.tracing import TraceContext, current_trace_context, invoke_parameters
from agentcore_async.contract import DEFAULT_QUALIFIER

__all__ = ["AgentClient", "AgentError", "WaitTimeout", "boto_client", "decode_response", "runtime_client"]

MAX_WAIT_SECONDS: Final = 60
MAX_PAGE_SIZE: Final = 100
"""The most tasks one ``list_tasks`` answer holds."""
UNFINISHED_STATUSES: Final = frozenset({TaskStatus.RUNNING.value, TaskStatus.SUSPENDED.value})
PROGRESS_POLL_INTERVAL: Final = 0.5
"""Least time between two polls that a progress change (not the end of a wait) answered."""


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


def runtime_client(target: Target, *, read_timeout: float = MAX_WAIT_SECONDS + 30) -> Any:
    """What calls ``target``: HTTPS with its bearer token for a JWT runtime, else boto3 (SigV4)."""
    if target.bearer_token is None:
        return boto_client(target, read_timeout=read_timeout)
    region = target.region or target.arn_region or boto3.Session().region_name
    if region is None and target.endpoint_url is None:
        raise TargetError(
            f"no AWS region: the runtime ARN {target.runtime_arn} names none and none is configured; "
            "pass --region or set AWS_DEFAULT_REGION"
        )
    return BearerClient(
        token=target.bearer_token,
        base_url=service_url(region or "", target.endpoint_url),
        read_timeout=read_timeout,
    )


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
        qualifier: str = DEFAULT_QUALIFIER,
        backoff: Backoff | None = None,
        long_poll_seconds: int = 20,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        trace_context: TraceContext | None = current_trace_context,
    ) -> None:
        """``trace_context`` gives the W3C trace context sent with every call (``traceparent``,
        ``tracestate``, ``baggage``); by default the caller's current OpenTelemetry context when
        ``opentelemetry`` is installed (see :mod:`client.tracing`); None sends none."""
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
        self._trace_context = trace_context
        self._progress_polls = True  # off once an agent without ``last_progress`` refuses it

    @classmethod
    def connect(
        cls,
        runtime_arn: str | None = None,
        *,
        outputs_file: str | Path | None = None,
        stage: str | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
        session_id: str | None = None,
        qualifier: str | None = None,
        bearer_token: str | None = None,
        **kwargs: Any,
    ) -> AgentClient:
        """A client over a fresh boto3 client, for the runtime named like the CLI names it.

        ``runtime_arn``, else ``$AGENTCORE_RUNTIME_ARN``, else the ``RuntimeArn`` output of
        ``AgentCoreAsync-<stage>-Runtime`` in ``outputs_file`` (a ``cdk deploy --outputs-file``
        JSON; default ``$AGENTCORE_OUTPUTS_FILE`` or ``cdk-outputs.json``). ``endpoint_url``
        (else ``$AGENTCORE_ENDPOINT_URL``) reaches the emulator; without it, AWS. Without a
        ``session_id`` the client works in a new session of its own (its ``session_id``): keep
        it to reach the same tasks later. ``qualifier`` (else ``$AGENTCORE_QUALIFIER``) names the
        runtime endpoint. With ``bearer_token`` (else ``$AGENTCORE_BEARER_TOKEN``) calls go over
        HTTPS with that token instead of SigV4, as a runtime with a JWT authorizer requires.
        Raises :class:`TargetError` when no runtime is named.
        """
        target = resolve_target(
            runtime_arn=runtime_arn,
            endpoint_url=endpoint_url,
            region=region,
            qualifier=qualifier,
            outputs_file=None if outputs_file is None else Path(outputs_file),
            stage=stage,
            bearer_token=bearer_token,
        )
        return cls(
            runtime_client(target),
            runtime_arn=target.runtime_arn,
            session_id=session_id or new_session_id(),
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
        if self._trace_context is not None:
            params.update(invoke_parameters(self._trace_context()))
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

    def result(
        self, task_id: str, *, wait_seconds: int = 0, last_progress: float | None = None
    ) -> TaskResult:
        """The task's state; ``wait_seconds`` long-polls until it finishes or the wait ends, and
        with ``last_progress`` also until its progress differs from that."""
        payload: dict[str, Any] = {"action": "get_task_result", "task_id": task_id}
        if wait_seconds:
            payload["wait_seconds"] = wait_seconds
            if last_progress is not None and self._progress_polls:
                payload["last_progress"] = min(1.0, max(0.0, last_progress))
        try:
            return self._task(self.invoke(payload))
        except InvalidInput as error:
            if "last_progress" not in payload or "last_progress" not in error.message:
                raise
            self._progress_polls = False  # an agent from before progress-driven polls
            del payload["last_progress"]
            return self._task(self.invoke(payload))

    def wait(
        self,
        task_id: str,
        timeout: float,
        *,
        on_update: Callable[[TaskResult], None] | None = None,
        on_retry: RetryReporter | None = None,
        follow_progress: bool | None = None,
        stop_session_when_idle: bool = False,
    ) -> TaskResult:
        """Poll until the task finishes; raises :class:`WaitTimeout` after ``timeout`` seconds.

        With ``stop_session_when_idle``, once the task finished the session is stopped
        (:meth:`stop_session_if_idle`) unless another of its tasks is still running or suspended:
        AWS bills a session until its idle timeout ends it. Results stay readable in the store.

        Each poll long-polls up to ``long_poll_seconds``. With ``follow_progress`` (by default:
        when ``on_update`` is given) it passes the last progress seen, so the agent answers as
        soon as the task finishes or its progress moves and ``on_update`` hears of each step
        (such polls are at least ``PROGRESS_POLL_INTERVAL`` apart); otherwise a poll is held
        until the task finishes or the long-poll ends. A
        poll the runtime did not hold, or a retryable error (the store or the endpoint is down,
        the microVM is being replaced), is followed by a capped, jittered exponential backoff;
        ``on_retry`` hears of each such error. Other errors are raised.
        """
        follow = on_update is not None if follow_progress is None else follow_progress
        deadline = self._monotonic() + timeout
        attempt = 0
        last: TaskResult | None = None
        last_error: AgentError | None = None
        while True:
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                raise WaitTimeout(task_id, last, last_error=last_error)
            wait_seconds = int(min(self._long_poll, remaining))
            # First poll: 0.0 answers at once with the task's state unless it sits at 0 %.
            sent = None if not follow else 0.0 if last is None else last.progress
            began = self._monotonic()
            try:
                last = self.result(task_id, wait_seconds=wait_seconds, last_progress=sent)
            except AgentError as error:
                if not error.retryable:
                    raise
                last_error = error
                pause: float | None = self._backoff.delay(attempt)
            else:
                last_error = None
                if on_update is not None:
                    on_update(last)
                if last.status.finished:
                    return self._finished(last, stop_session_when_idle=stop_session_when_idle)
                pause = self._pause_after(last, sent, wait_seconds, self._monotonic() - began, attempt)
            if pause is None:  # a held poll: ask again at once
                attempt = 0
                continue
            moved = last is not None and last_error is None and sent is not None and last.progress != sent
            attempt = 0 if moved else attempt + 1
            pause = min(pause, max(0.0, deadline - self._monotonic()))
            if last_error is not None and on_retry is not None:
                on_retry(last_error, pause)
            self._sleep(pause)

    def _pause_after(
        self, answer: TaskResult, sent: float | None, wait_seconds: int, held: float, attempt: int
    ) -> float | None:
        """The pause before the next poll after an unfinished ``answer``; None for none at all."""
        if wait_seconds > 0 and sent is not None and answer.progress != sent:
            return max(0.0, PROGRESS_POLL_INTERVAL - held)  # answered because the progress moved
        if wait_seconds > 0 and held >= wait_seconds / 2:
            return None
        return self._backoff.delay(attempt)  # not held: back off

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

    def _finished(self, task: TaskResult, *, stop_session_when_idle: bool) -> TaskResult:
        if stop_session_when_idle:
            self.stop_session_if_idle()
        return task

    def unfinished_tasks(self) -> builtins.list[dict[str, Any]]:
        """This session's RUNNING and SUSPENDED tasks (every page of ``list_tasks``)."""
        unfinished: builtins.list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = self.list(limit=MAX_PAGE_SIZE, next_token=cursor)
            tasks = page.get("tasks")
            if not isinstance(tasks, list):
                raise BadAnswer("BadAnswer", "the agent's list has no tasks")
            unfinished += [t for t in tasks if isinstance(t, dict) and t.get("status") in UNFINISHED_STATUSES]
            cursor = page.get("next_cursor")
            if not isinstance(cursor, str):
                return unfinished

    def stop_session_if_idle(self) -> bool:
        """StopRuntimeSession when no task of this session is running or suspended any more;
        returns whether it stopped the session."""
        if self.unfinished_tasks():
            return False
        self.stop_session()
        return True

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
