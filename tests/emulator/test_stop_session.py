"""StopRuntimeSession ends the session at once; the process is shut down in the background.

"When called, this operation instantly terminates the specified session and stops any ongoing
streaming responses" (https://docs.aws.amazon.com/bedrock-agentcore/latest/devguide/runtime-stop-session.html).
The process still gets SIGTERM and its grace period (AgentCore's "up to 15 seconds", the
emulator's default), but the caller does not wait for it, and calls in flight end.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator.harness import RunningEmulator, pid_alive, running_emulator, wait_until

AWS_GRACE_SECONDS = 15


@pytest.fixture(scope="module")
def full_grace() -> Iterator[RunningEmulator]:
    flags = ("--idle-timeout", "60", "--max-lifetime", "600", "--ping-interval", "0.3")
    with running_emulator(*flags, "--stop-grace", str(AWS_GRACE_SECONDS)) as running:
        yield running


def invoke(emulator: RunningEmulator, session_id: str, payload: dict[str, Any]) -> Any:
    response = emulator.boto().invoke_agent_runtime(
        agentRuntimeArn=emulator.arn, runtimeSessionId=session_id, payload=json.dumps(payload)
    )
    return json.loads(response["response"].read())


def test_stop_answers_at_once_and_ends_a_pending_long_poll(
    full_grace: RunningEmulator, session_id: str
) -> None:
    task_id = invoke(full_grace, session_id, {"action": "start_background_task", "duration": 120})["task_id"]
    [before] = full_grace.rows(session_id)
    poll = {"action": "get_task_result", "task_id": task_id, "wait_seconds": 30}
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(invoke, full_grace, session_id, poll)
        full_grace.row_when(session_id, lambda row: row["in_flight"] == 1, 10)

        began = time.monotonic()
        full_grace.boto().stop_runtime_session(agentRuntimeArn=full_grace.arn, runtimeSessionId=session_id)
        stop_took = time.monotonic() - began
        with pytest.raises(ClientError) as caught:
            pending.result(timeout=AWS_GRACE_SECONDS + 10)
        poll_ended_after = time.monotonic() - began

    assert stop_took < 2, f"StopRuntimeSession waited {stop_took:.1f}s for the process"
    assert poll_ended_after < 2, f"the pending call ran on for {poll_ended_after:.1f}s after the stop"
    assert caught.value.response["Error"]["Code"] == "RuntimeClientError"
    [stopped] = full_grace.rows(session_id)
    assert stopped["end_reason"] == "stopped"

    # The session is out of service: the same id gets a new microVM, even while the old shuts down.
    assert invoke(full_grace, session_id, {"action": "list_tasks"})["tasks"]
    old, new = full_grace.rows(session_id)
    assert old["microvm"] == before["microvm"]
    assert new["state"] == "running"
    gone = wait_until(
        lambda: next((row for row in full_grace.rows(session_id) if row["state"] == "ended"), None),
        AWS_GRACE_SECONDS + 5,
        "the old microVM's process to be shut down",
    )
    assert gone["microvm"] == before["microvm"]
    assert not pid_alive(before["pid"])
