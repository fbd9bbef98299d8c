"""OpenTelemetry spans: one per invocation, one per task attempt, one per store call.

Spans go to whatever tracer provider the process has: the AWS Distro for OpenTelemetry's under
``opentelemetry-instrument`` (the container on AgentCore), the one :mod:`agent.instrumentation`
sets up from ``OTEL_*`` variables for ``python -m agent``, or none at all (then every span is a
no-op). Model calls are traced by strands itself, as children of the current span.

Exceptions are recorded as their type only, never their text (which may carry keys or endpoints),
like the logs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Final

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled, suppress_instrumentation
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode

from agent.records import TaskStatus

TRACER_NAME: Final = "agentcore_async.agent"
SUPERSEDED: Final = "SUPERSEDED"
"""How an attempt ends whose task another process took over (not a task status)."""


class Attr:
    """Span attribute names."""

    SESSION: Final = "session.id"
    """The runtime session (the name AgentCore's own spans and CloudWatch's GenAI views use)."""
    ACTION: Final = "agent.action"
    HTTP_STATUS: Final = "http.response.status_code"
    ERROR_CODE: Final = "agent.error.code"
    TASK_ID: Final = "agent.task.id"
    KIND: Final = "agent.task.kind"
    ATTEMPT: Final = "agent.task.attempt"
    STATUS: Final = "agent.task.status"
    RESUMED: Final = "agent.task.resumed"
    STORE_OPERATION: Final = "agent.store.operation"


_tracer = trace.get_tracer(TRACER_NAME)


def _parent(headers: Mapping[str, str]) -> otel_context.Context | None:
    """The caller's trace context from ``traceparent`` (or ``X-Amzn-Trace-Id``), unless a server
    span of an HTTP instrumentation already carries it."""
    if trace.get_current_span().get_span_context().is_valid:
        return None
    return propagate.extract(headers)


@contextmanager
def invocation_span(headers: Mapping[str, str]) -> Iterator[Span]:
    """The span of one ``/invocations`` request, a child of the caller's span when it sent one."""
    with _tracer.start_as_current_span(
        "invocation",
        context=_parent(headers),
        kind=SpanKind.SERVER,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        yield span


def end_invocation(
    span: Span,
    *,
    session_id: str,
    action: str,
    http_status: int,
    error_code: str | None,
    task_id: str | None,
) -> None:
    """Record what an invocation did; only a failure of the agent itself (5xx) is a span error."""
    span.set_attribute(Attr.SESSION, session_id)
    span.set_attribute(Attr.ACTION, action)
    span.set_attribute(Attr.HTTP_STATUS, http_status)
    if task_id is not None:
        span.set_attribute(Attr.TASK_ID, task_id)
    if error_code is not None:
        span.set_attribute(Attr.ERROR_CODE, error_code)
    if http_status >= 500:
        span.set_status(Status(StatusCode.ERROR, error_code))


@contextmanager
def task_span(*, session_id: str, task_id: str, kind: str, attempt: int) -> Iterator[Span]:
    """The span of one attempt of a task.

    A task's first attempt runs in an asyncio task created by its start request, so its span is a
    child of that invocation: the caller's trace holds the whole run. A resumed attempt has no
    caller of its own (a poll in the session's next microVM only woke it), so it starts a trace
    and links to the invocation that resumed it.
    """
    resumed = attempt > 1
    links: list[Link] = []
    parent: otel_context.Context | None = None
    if resumed:
        waker = trace.get_current_span().get_span_context()
        links = [Link(waker)] if waker.is_valid else []
        parent = otel_context.Context()
    with _tracer.start_as_current_span(
        f"task {kind}",
        context=parent,
        links=links,
        attributes={
            Attr.SESSION: session_id,
            Attr.TASK_ID: task_id,
            Attr.KIND: kind,
            Attr.ATTEMPT: attempt,
            Attr.RESUMED: resumed,
        },
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        yield span


def end_task(span: Span, status: str, error_code: str | None) -> None:
    """Record how an attempt ended (FAILED and LOST mark the span as an error)."""
    span.set_attribute(Attr.STATUS, status)
    if error_code is not None:
        span.set_attribute(Attr.ERROR_CODE, error_code)
    if status in (TaskStatus.FAILED, TaskStatus.LOST):
        span.set_status(Status(StatusCode.ERROR, error_code or status))


@contextmanager
def store_span(operation: str) -> Iterator[None]:
    """A child span for one storage call (none where instrumentation is suppressed: heartbeats)."""
    if not is_instrumentation_enabled():
        yield
        return
    with _tracer.start_as_current_span(
        f"store {operation}",
        kind=SpanKind.CLIENT,
        attributes={Attr.STORE_OPERATION: operation},
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield
        except Exception as exc:
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


@contextmanager
def untraced() -> Iterator[None]:
    """No spans inside (ours or a library's): for periodic work like heartbeats, which would add
    thousands of spans to a long task's trace."""
    with suppress_instrumentation():
        yield


def flush(timeout_seconds: float) -> None:
    """Export the spans still queued. On SIGTERM uvicorn ends the process by the signal, so the
    SDK's own flush at exit never runs."""
    force_flush = getattr(trace.get_tracer_provider(), "force_flush", None)
    if callable(force_flush):
        force_flush(int(timeout_seconds * 1000))
