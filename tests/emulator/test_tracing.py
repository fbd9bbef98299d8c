"""A caller's trace context reaches the agent through the emulator, as through AgentCore.

InvokeAgentRuntime takes ``traceParent``, ``traceState`` and ``baggage`` (and ``traceId``, the
X-Ray header) and AgentCore hands them to the container as the W3C ``traceparent``,
``tracestate`` and ``baggage`` headers ("Add observability to your Amazon Bedrock AgentCore
resources", Enhance AgentCore runtime observability with custom headers:
https://docs.aws.amazon.com/bedrock-agentcore/latest/devguide/observability-configure.html).
So the caller's span is the parent of the agent's invocation span, and the task's spans share
the caller's trace.

The project's client sends the caller's context itself: the library the current OpenTelemetry
span's and baggage (when ``opentelemetry`` is installed), the CLI what ``TRACEPARENT``,
``TRACESTATE`` and ``BAGGAGE`` in its environment name.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import baggage, trace
from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState

from agentcore_async.client.api import AgentClient
from agentcore_async.client.bearer import BearerClient
from agentcore_async.client.tracing import ENVIRONMENT_CARRIERS
from tests.emulator import scripted_agent
from tests.emulator.conftest import STANDARD_FLAGS
from tests.emulator.harness import REPO_ROOT, RunningEmulator, running_emulator
from tests.support.jwt_issuer import AUDIENCE, LocalIssuer
from tests.support.spans import PrintedSpan, printed_spans, tree
from tests.support.waiting import eventually

ISSUER = LocalIssuer()
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


def test_every_trace_header_reaches_the_container(echo_emulators: dict[str, RunningEmulator]) -> None:
    echoed = invoke(
        echo_emulators["boto3"],
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


W3C_HEADERS = ["traceparent", "tracestate", "baggage"]
SENT_NONE = dict.fromkeys(W3C_HEADERS)
CALLER_STATE = TraceState([("caller", "t61rcWkgMzE")])
ECHO_COMMAND = shlex.join([sys.executable, str(Path(scripted_agent.__file__).resolve())])


@contextmanager
def caller_span(trace_state: TraceState = CALLER_STATE) -> Iterator[str]:
    """A span of the caller's own tracer, current in this thread, child of a remote parent with
    ``trace_state`` and with baggage; yields the traceparent it makes."""
    parent = SpanContext(
        trace_id=int(CALLER_TRACE, 16),
        span_id=int(CALLER_SPAN, 16),
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=trace_state,
    )
    extracted = baggage.set_baggage("tenant", "blue", trace.set_span_in_context(NonRecordingSpan(parent)))
    tracer = TracerProvider().get_tracer("the caller")  # its own provider: no global state
    token = otel_context.attach(extracted)  # as a server does with what its caller sent
    try:
        with tracer.start_as_current_span("call the agent") as span:
            yield f"00-{CALLER_TRACE}-{span.get_span_context().span_id:016x}-01"
    finally:
        otel_context.detach(token)


@pytest.fixture(scope="module")
def echo_emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RunningEmulator]]:
    """The echoing agent behind an IAM emulator and behind one in JWT mode."""
    jwks = ISSUER.jwks_file(tmp_path_factory.mktemp("jwks"))
    jwt_flags = ("--jwt-jwks", str(jwks), "--jwt-audience", AUDIENCE)
    with (
        running_emulator("--agent-command", ECHO_COMMAND, *STANDARD_FLAGS) as iam,
        running_emulator("--agent-command", ECHO_COMMAND, *STANDARD_FLAGS, *jwt_flags) as jwt,
    ):
        yield {"boto3": iam, "bearer": jwt}


@pytest.mark.parametrize("transport", ["boto3", "bearer"])
def test_the_client_library_sends_the_callers_current_trace_context(
    echo_emulators: dict[str, RunningEmulator], transport: str
) -> None:
    emulator = echo_emulators[transport]
    session = f"library-{uuid.uuid4().hex}"
    if transport == "boto3":
        client = emulator.agent_client(session)
    else:  # a JWT runtime: HTTPS with a bearer token instead of boto3
        bearer = BearerClient(token=ISSUER.token("erin"), base_url=emulator.url, read_timeout=30)
        client = AgentClient(bearer, runtime_arn=emulator.arn, session_id=session)
    echo = {"echo_headers": W3C_HEADERS}
    assert client.invoke(echo) == SENT_NONE  # no current span, no baggage: nothing is sent
    with caller_span() as traceparent:
        assert client.invoke(echo) == {
            "traceparent": traceparent,
            "tracestate": "caller=t61rcWkgMzE",
            "baggage": "tenant=blue",
        }
    assert client.invoke(echo) == SENT_NONE  # the span ended


def test_a_trace_state_longer_than_the_api_takes_is_left_out_and_the_call_still_goes(
    echo_emulators: dict[str, RunningEmulator],
) -> None:
    client = echo_emulators["boto3"].agent_client(f"long-state-{uuid.uuid4().hex}")
    long_state = TraceState([(f"vendor{n}", "x" * 40) for n in range(16)])  # W3C allows 32 entries
    assert len(long_state.to_header()) > 512  # traceState's limit in the service model
    with caller_span(long_state) as traceparent:
        sent = client.invoke({"echo_headers": W3C_HEADERS})
    assert sent == {"traceparent": traceparent, "tracestate": None, "baggage": "tenant=blue"}


def test_the_cli_sends_the_trace_context_of_its_environment(
    echo_emulators: dict[str, RunningEmulator], tmp_path: Path
) -> None:
    emulator = echo_emulators["boto3"]
    session = f"cli-{uuid.uuid4().hex}"
    untraced = {
        key: value
        for key, value in os.environ.items()
        if key not in ENVIRONMENT_CARRIERS and not key.startswith("AGENTCORE_")
    }
    untraced["PYTHONPATH"] = str(REPO_ROOT)
    traced = {
        **untraced,
        "TRACEPARENT": TRACE_HEADERS["traceParent"],
        "TRACESTATE": TRACE_HEADERS["traceState"],
        "BAGGAGE": TRACE_HEADERS["baggage"],
    }
    command = [
        *(sys.executable, "-m", "agentcore_async.client", "list", "--json", "--endpoint-url", emulator.url),
        *("--runtime-arn", emulator.arn, "--session-id", session),
        *("--state-file", str(tmp_path / "state.json")),
    ]
    for env in (traced, untraced):
        listed = subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert listed.returncode == 0, listed.stderr
    seen = invoke(emulator, session, {"seen_headers": W3C_HEADERS})
    assert seen == [
        {
            "traceparent": TRACE_HEADERS["traceParent"],
            "tracestate": TRACE_HEADERS["traceState"],
            "baggage": TRACE_HEADERS["baggage"],
        },
        SENT_NONE,
    ]
