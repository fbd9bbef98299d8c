"""``python -m agent`` honours the standard OTEL_* variables and, by default, exports nothing.

``OTEL_TRACES_EXPORTER=console`` prints every span as JSON on stdout; the span tree of a started
and finished task hangs under the caller's ``traceparent`` and carries the task id. Without any
OTEL_* variable the agent prints no span and logs no exporter error (the distro alone would try
to export to an OTLP collector on localhost).
"""

from __future__ import annotations

import os
import signal

import pytest

from tests.agent.conftest import StartAgent
from tests.agent.helpers import get_task, new_session
from tests.support.agent_process import AgentProcess
from tests.support.emf import counts, emf_points
from tests.support.spans import printed_spans, tree

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


def _start_and_finish(agent: AgentProcess, session: str) -> str:
    status, body = agent.invoke(
        {"action": "start_background_task", "duration": 0.3},
        session,
        headers={"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"},
    )
    assert (status, body["status"]) == (200, "RUNNING"), body
    task_id = str(body["task_id"])
    assert get_task(agent, task_id, session, wait=10)["status"] == "COMPLETED"
    return task_id


def test_console_exporter_prints_the_span_tree_of_a_task_under_the_callers_span(
    start_agent: StartAgent,
) -> None:
    session = new_session()
    agent = start_agent(OTEL_TRACES_EXPORTER="console")
    task_id = _start_and_finish(agent, session)
    # Stopped before the batch processor's 5 s export delay: shutdown exports what is queued.
    agent.stop()
    output = agent.logs()
    spans = printed_spans(output)
    [task] = [span for span in spans if span.name == "task sleep"]
    assert task.attributes["agent.task.id"] == task_id
    by_id = {span.span_id: span for span in spans}
    invocation = by_id[task.parent_id or ""]
    assert invocation.name == "invocation" and invocation.kind == "SpanKind.SERVER"
    assert invocation.parent_id == CALLER_SPAN  # the caller's span, from its traceparent
    assert {invocation.trace_id, task.trace_id} == {CALLER_TRACE}
    assert invocation.attributes["agent.task.id"] == task_id
    assert task.attributes["agent.task.status"] == "COMPLETED"
    assert task.attributes["session.id"] == session
    drawn = tree(spans, invocation)
    assert drawn[:1] == [f"invocation {task_id}"], drawn
    assert f"  task sleep {task_id}" in drawn and "    store transition" in drawn, drawn
    # The same run also wrote its metrics, as EMF lines, to the same stdout.
    assert counts(emf_points(output), Kind="sleep") == {"TasksStarted": 1, "TasksCompleted": 1}


def test_without_otel_variables_nothing_is_traced_or_exported(
    start_agent: StartAgent, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [name for name in os.environ if name.startswith("OTEL_")]:
        monkeypatch.delenv(name)
    agent = start_agent()
    _start_and_finish(agent, new_session())
    agent.stop()  # a tracer provider would flush (and fail to export) now
    assert agent.process is not None and agent.process.returncode in (0, -signal.SIGTERM)
    output, records = agent.logs(), agent.log_records()
    assert printed_spans(output) == []
    assert any(record.get("message") == "task finished" for record in records)
    assert not [r for r in records if r.get("level") in ("WARNING", "ERROR")], records
    assert "4318" not in output and "opentelemetry" not in output
