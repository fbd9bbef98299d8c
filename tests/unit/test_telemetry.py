"""Spans and their parent links, in-process, through the SDK's in-memory exporter.

A start is one trace from the caller's span through the invocation to the task and its store
calls; a resumed attempt starts its own trace, linked to the invocation that resumed it; model
calls (strands' own spans) sit under the task; heartbeats add no spans.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from agent.instrumentation import tracing_requested
from agent.records import TaskRecord, TaskStatus
from agent.store.memory import MemoryStore
from agent.telemetry import Attr
from tests.support.waiting import eventually
from tests.unit.conftest import UNIT_ENV, Agent

pytestmark = pytest.mark.unit

CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN = "b7ad6b7169203331"
TRACEPARENT = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
SESSION = "unit-traced-00000000000000000000000001"


@pytest.fixture
def unit_env() -> Mapping[str, str]:
    """With the scripted model, for the batch task whose model calls are traced."""
    return {**UNIT_ENV, "AGENT_MODEL_FACTORY": "tests.agent.scripted_model:create"}


def _hex(value: int, width: int) -> str:
    return format(value, f"0{width}x")


def trace_of(span: ReadableSpan) -> str:
    assert span.context is not None
    return _hex(span.context.trace_id, 32)


def id_of(span: ReadableSpan) -> str:
    assert span.context is not None
    return _hex(span.context.span_id, 16)


def parent_of(span: ReadableSpan) -> str | None:
    return None if span.parent is None else _hex(span.parent.span_id, 16)


def task_span(spans: InMemorySpanExporter, task_id: object, attempt: int = 1) -> ReadableSpan:
    """The (ended) span of one attempt of a task."""

    def ended() -> ReadableSpan | None:
        found = [
            span
            for span in spans.get_finished_spans()
            if span.name.startswith("task ")
            and span.attributes is not None
            and span.attributes.get(Attr.TASK_ID) == task_id
            and span.attributes.get(Attr.ATTEMPT) == attempt
        ]
        return found[0] if found else None

    return eventually(ended, timeout=10, what=f"the span of attempt {attempt} of {task_id}")


def children(spans: Sequence[ReadableSpan], parent: ReadableSpan) -> list[str]:
    return sorted(span.name for span in spans if parent_of(span) == id_of(parent))


def invocation_naming(spans: Sequence[ReadableSpan], action: str) -> ReadableSpan:
    [found] = [
        span
        for span in spans
        if span.name == "invocation" and span.attributes and span.attributes.get(Attr.ACTION) == action
    ]
    return found


def test_a_start_is_one_trace_from_the_callers_span_to_the_tasks_store_calls(
    agent: Agent, spans: InMemorySpanExporter
) -> None:
    started = agent.invoke(
        {"action": "start_background_task", "duration": 0.1}, SESSION, headers={"traceparent": TRACEPARENT}
    )
    done = agent.invoke(
        {"action": "get_task_result", "task_id": started["task_id"], "wait_seconds": 5}, SESSION
    )
    assert done["status"] == "COMPLETED"
    task = task_span(spans, started["task_id"])
    finished = spans.get_finished_spans()
    start = invocation_naming(finished, "start_background_task")

    assert (trace_of(start), parent_of(start), start.kind) == (CALLER_TRACE, CALLER_SPAN, SpanKind.SERVER)
    assert start.attributes is not None
    assert start.attributes[Attr.SESSION] == SESSION
    assert start.attributes[Attr.TASK_ID] == started["task_id"]
    assert start.attributes[Attr.HTTP_STATUS] == 200
    assert (trace_of(task), parent_of(task)) == (CALLER_TRACE, id_of(start))
    assert task.name == "task sleep"
    assert dict(task.attributes or {}) == {
        Attr.SESSION: SESSION,
        Attr.TASK_ID: started["task_id"],
        Attr.KIND: "sleep",
        Attr.ATTEMPT: 1,
        Attr.RESUMED: False,
        Attr.STATUS: "COMPLETED",
    }
    assert "store create" in children(finished, start)
    assert "store transition" in children(finished, task)  # the final state, written by the task
    poll = invocation_naming(finished, "get_task_result")
    assert trace_of(poll) != CALLER_TRACE and poll.parent is None  # no traceparent: its own trace


def test_a_failed_task_and_a_refused_request_say_why(agent: Agent, spans: InMemorySpanExporter) -> None:
    refused = agent.invoke({"action": "start_task", "kind": "nope", "input": {}}, SESSION)
    assert refused["error"]["code"] == "UnknownKind"  # type: ignore[index]
    [invocation] = [span for span in spans.get_finished_spans() if span.name == "invocation"]
    assert invocation.attributes is not None
    assert invocation.attributes[Attr.ERROR_CODE] == "UnknownKind"
    assert invocation.status.status_code is StatusCode.UNSET  # the agent answered; the caller erred


def test_a_resumed_attempt_starts_its_own_trace_linked_to_the_invocation_that_resumed_it(
    stored_agent: Agent, store: MemoryStore, spans: InMemorySpanExporter
) -> None:
    # A sleep task whose microVM ended: suspended with a checkpoint, waiting for a new microVM.
    now = time.time()
    store.create(
        TaskRecord(
            session_id=SESSION,
            task_id="7e0d4c1e-0000-4000-8000-000000000001",
            status=TaskStatus.SUSPENDED,
            kind="sleep",
            input_json='{"duration":0.2,"result_bytes":null}',
            created_at=now - 60,
            updated_at=now - 30,
            heartbeat_at=now - 30,
            expires_at=int(now + 3600),
            checkpoint='{"done":0.1}',
        )
    )
    poll = {"action": "get_task_result", "task_id": "7e0d4c1e-0000-4000-8000-000000000001", "wait_seconds": 5}
    done = stored_agent.invoke(poll, SESSION, headers={"traceparent": TRACEPARENT})
    assert (done["status"], done["attempt"]) == ("COMPLETED", 2)
    resumed = task_span(spans, "7e0d4c1e-0000-4000-8000-000000000001", attempt=2)
    waker = invocation_naming(spans.get_finished_spans(), "get_task_result")

    assert resumed.parent is None and trace_of(resumed) != CALLER_TRACE
    assert [_hex(link.context.span_id, 16) for link in resumed.links] == [id_of(waker)]
    assert resumed.attributes is not None
    assert resumed.attributes[Attr.RESUMED] is True
    assert resumed.attributes[Attr.STATUS] == "COMPLETED"


def test_heartbeats_add_no_spans(
    stored_agent: Agent, store: MemoryStore, spans: InMemorySpanExporter
) -> None:
    # ``once`` never checkpoints, so only heartbeats (every 0.05 s here) write while it runs.
    started = stored_agent.invoke(
        {"action": "start_task", "kind": "once", "input": {"duration": 0.5}}, SESSION
    )

    def beaten() -> TaskRecord | None:
        record = store.get(SESSION, str(started["task_id"]))
        return record if record is not None and record.heartbeat_at > record.created_at else None

    eventually(beaten, timeout=5, what="a heartbeat")
    task = task_span(spans, started["task_id"])
    names = [span.name for span in spans.get_finished_spans() if trace_of(span) == trace_of(task)]
    assert "store heartbeat" not in names, names
    assert children(spans.get_finished_spans(), task) == ["store transition"]


def test_model_calls_are_traced_under_the_task(agent: Agent, spans: InMemorySpanExporter) -> None:
    batch = {"instruction": "upper", "items": ["one", "two"]}
    started = agent.invoke({"action": "start_task", "kind": "batch", "input": batch}, SESSION)
    done = agent.invoke(
        {"action": "get_task_result", "task_id": started["task_id"], "wait_seconds": 10}, SESSION
    )
    assert done["status"] == "COMPLETED", done
    task = task_span(spans, started["task_id"])
    finished = [span for span in spans.get_finished_spans() if trace_of(span) == trace_of(task)]
    by_id = {id_of(span): span for span in finished}

    def under_task(span: ReadableSpan) -> bool:
        parent = parent_of(span)
        while parent is not None and parent != id_of(task):
            parent = parent_of(by_id[parent]) if parent in by_id else None
        return parent == id_of(task)

    model_calls = [span for span in finished if span.name == "chat"]
    assert len(model_calls) == 2, sorted(span.name for span in finished)  # one per item
    assert all(under_task(span) for span in model_calls)
    assert "store checkpoint" in children(finished, task)  # one per item, as the kind writes them


@pytest.mark.parametrize(
    ("environ", "requested"),
    [
        ({}, False),
        ({"OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none,otlp"}, True),
        ({"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_python_m_agent_traces_only_when_a_traces_exporter_is_named(
    environ: dict[str, str], requested: bool
) -> None:
    assert tracing_requested(environ) is requested
