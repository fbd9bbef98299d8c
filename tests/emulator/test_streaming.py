"""SSE answers stream through the emulator as the agent produces them."""

from __future__ import annotations

import json
import shlex
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentcore_async.client.api import decode_response
from tests.emulator import sse_agent
from tests.emulator.harness import RunningEmulator, running_emulator

SSE_AGENT = Path(sse_agent.__file__).resolve()


@pytest.fixture(scope="module")
def sse_emulator() -> Iterator[RunningEmulator]:
    command = shlex.join([sys.executable, str(SSE_AGENT)])
    with running_emulator(
        "--agent-command", command, "--idle-timeout", "30", "--max-lifetime", "60", "--ping-interval", "0.3"
    ) as running:
        yield running


def test_events_arrive_before_the_stream_ends(sse_emulator: RunningEmulator) -> None:
    session_id = f"stream-{'1' * 30}"
    response = sse_emulator.boto().invoke_agent_runtime(
        agentRuntimeArn=sse_emulator.arn, runtimeSessionId=session_id, payload=b'{"prompt": "stream"}'
    )
    assert response["contentType"].startswith("text/event-stream")
    arrivals: list[float] = []
    lines: list[bytes] = []
    # chunk_size=1: botocore's default read of 1 KiB would itself wait for the whole small stream.
    for line in response["response"].iter_lines(chunk_size=1):
        if line.startswith(b"data:"):
            arrivals.append(time.time())
            lines.append(line)
    events = [json.loads(line[5:]) for line in lines]
    assert [event["index"] for event in events] == list(range(sse_agent.EVENTS))
    assert {event["session"] for event in events} == {session_id}
    # Buffered proxying would deliver the first event only after the agent sent the last one.
    assert arrivals[0] < events[-1]["sent_at"]
    assert arrivals[-1] - arrivals[0] >= (sse_agent.EVENTS - 1) * sse_agent.GAP_SECONDS * 0.5


def test_decode_response_reads_sse_events() -> None:
    body = b'data: {"a": 1}\n\ndata: plain text\n\n: comment\n'
    assert decode_response("text/event-stream; charset=utf-8", body) == [{"a": 1}, "plain text"]
    assert decode_response("application/json", b'{"x": [1]}') == {"x": [1]}
    assert decode_response("application/json", b"") is None
