"""A caller's trace context reaches the agent through the emulator, as through AgentCore.

InvokeAgentRuntime takes ``traceParent``, ``traceState`` and ``baggage`` (and ``traceId``, the
X-Ray header) and AgentCore hands them to the container as the W3C ``traceparent``,
``tracestate`` and ``baggage`` headers ("Add observability to your Amazon Bedrock AgentCore
resources", Enhance AgentCore runtime observability with custom headers:
https://docs.aws.amazon.com/bedrock-agentcore/latest/devguide/observability-configure.html).
So the caller's span is the parent of the agent's invocation span, and the task's spans share
the caller's trace.
"""

from __future__ import annotations

import json
import shlex
import sys
import uuid
from pathlib import Path
from typing import Any

from tests.emulator import scripted_agent
from tests.emulator.conftest import STANDARD_FLAGS
from tests.emulator.harness import RunningEmulator, running_emulator
from tests.support.spans import PrintedSpan, printed_spans, tree
from tests.support.waiting import eventually

CALLER_TRACE = "5b8efff798038103d269b633813fc60c"
CALLER_SPAN = "eee19b7ec3c1b174"
TRACE_HEADERS: dict[str, str] = {
    "traceParent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01",
    "traceState": "caller=t61rcWkgMzE",
    "baggage": "tenant=blue",
}


def invoke(emulator: RunningEmulator, session_id: str, payload: dict[str, Any], **headers: str) -> Any:
    response = emulator.boto().invoke_agent_runtime(
        agentRuntimeArn=emulator.arn, runtimeSessionId=session_id, payload=json.dumps(payload), **headers
    )
    return json.loads(response["response"].read())


def test_the_callers_span_is_the_parent_of_the_agents_spans() -> None:
    session_id = f"traced-{uuid.uuid4().hex}"
    env = {"OTEL_TRACES_EXPORTER": "console", "OTEL_BSP_SCHEDULE_DELAY": "50"}
    with running_emulator(*STANDARD_FLAGS, env=env) as emulator:
        started = invoke(
            emulator, session_id, {"action": "start_background_task", "duration": 0.3}, **TRACE_HEADERS
        )
        task_id = started["task_id"]
        poll = {"action": "get_task_result", "task_id": task_id, "wait_seconds": 10}
        assert invoke(emulator, session_id, poll)["status"] == "COMPLETED"

        def task_span() -> PrintedSpan | None:
            spans = printed_spans(emulator.logs())
            return next(
                (s for s in spans if s.attributes.get("agent.task.id") == task_id and s.name == "task sleep"),
                None,
            )

        task = eventually(task_span, timeout=15, what="the task's span in the agent's output")
        spans = printed_spans(emulator.logs())
    by_id = {span.span_id: span for span in spans}
    start = by_id[task.parent_id or ""]
    assert (start.name, start.parent_id, start.trace_id) == ("invocation", CALLER_SPAN, CALLER_TRACE)
    assert "caller" in start.trace_state  # tracestate arrived with it
    assert task.trace_id == CALLER_TRACE
    drawn = tree(spans, start)
    assert drawn[0] == f"invocation {task_id}" and f"  task sleep {task_id}" in drawn, drawn


def test_every_trace_header_reaches_the_container() -> None:
    command = shlex.join([sys.executable, str(Path(scripted_agent.__file__).resolve())])
    with running_emulator("--agent-command", command, *STANDARD_FLAGS) as emulator:
        echoed = invoke(
            emulator,
            f"echo-{uuid.uuid4().hex}",
            {"echo_headers": ["traceparent", "tracestate", "baggage", "x-amzn-trace-id"]},
            traceId="Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            **TRACE_HEADERS,
        )
    assert echoed == {
        "traceparent": TRACE_HEADERS["traceParent"],
        "tracestate": TRACE_HEADERS["traceState"],
        "baggage": TRACE_HEADERS["baggage"],
        "x-amzn-trace-id": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    }
