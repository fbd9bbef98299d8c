"""``wait`` rides through a microVM ending and keeps waiting in the next one.

While a microVM ends, a pending long-poll may get the task's current state early, the connection
may break, or the runtime may report that it got no answer from the microVM. None of that is the
task's outcome, so ``wait`` keeps polling (with backoff, saying why) until the task is final.
"""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import uuid
from collections.abc import Iterator

import pytest

from agentcore_async.client.api import AgentClient, boto_client
from agentcore_async.client.backoff import Backoff
from agentcore_async.client.cli import main
from agentcore_async.client.exit_codes import ExitCode
from agentcore_async.client.models import TaskStatus
from agentcore_async.client.target import Target
from tests.client.fake_runtime import FakeRuntime, Fault, Reset, Scripted, running_fake_runtime
from tests.emulator.harness import RunningEmulator


@pytest.fixture
def runtime() -> Iterator[FakeRuntime]:
    with running_fake_runtime() as running:
        yield running


def test_wait_keeps_waiting_through_a_microvm_switch(runtime: FakeRuntime) -> None:
    target = Target(runtime_arn=runtime.arn, endpoint_url=runtime.url)
    client = AgentClient(
        boto_client(target),
        runtime_arn=runtime.arn,
        session_id=f"switch-{uuid.uuid4().hex}",
        long_poll_seconds=1,
        backoff=Backoff(base=0.05, cap=0.2),
    )
    task_id = client.start(2)
    # The old microVM drops its connections (more resets than botocore's own retries absorb),
    # then the runtime reports it got no answer while the next microVM starts.
    switch: list[Scripted] = [
        *[Reset()] * 8,
        Fault("RuntimeClientError", "The runtime did not answer the invocation"),
        Fault("RuntimeClientError", "The runtime session was terminated"),
    ]
    runtime.faults.extend(switch)
    reasons: list[str] = []
    done = client.wait(task_id, timeout=60, on_retry=lambda error, pause: reasons.append(error.message))
    assert done.status is TaskStatus.COMPLETED
    assert done.result == "Task completed after 2s"
    assert any("Connection was closed" in reason for reason in reasons)
    assert reasons[-2:] == ["The runtime did not answer the invocation", "The runtime session was terminated"]


def test_wait_through_the_emulator_when_the_microvm_is_killed_mid_poll(
    emulator: RunningEmulator, session_id: str
) -> None:
    client = emulator.agent_client(session_id)
    task_id = client.start_task("once", {"duration": 30})  # not resumable: the kill loses it
    [first] = emulator.rows(session_id)
    out, err = io.StringIO(), io.StringIO()
    argv = [
        "wait",
        task_id,
        "--endpoint-url",
        emulator.url,
        "--runtime-arn",
        emulator.arn,
        "--session-id",
        session_id,
        "--long-poll",
        "20",
        "--timeout",
        "60",
    ]
    exit_code: list[int] = []
    waiter = threading.Thread(target=lambda: exit_code.append(main(argv, out=out, err=err)))
    waiter.start()
    try:
        # Kill the agent while the long-poll is held inside it, as when a microVM ends.
        emulator.row_when(session_id, lambda row: row["in_flight"] >= 1, timeout=15)
        os.kill(first["pid"], signal.SIGKILL)
    finally:
        waiter.join(timeout=60)
    assert exit_code == [ExitCode.FAILED], err.getvalue()
    lost = json.loads(out.getvalue())
    assert lost["status"] == "LOST"  # the next microVM reads the record the killed one left
    assert "did not answer" in err.getvalue()  # the switch was reported, not fatal
    assert "Traceback" not in err.getvalue()
    assert len(emulator.rows(session_id)) == 2
