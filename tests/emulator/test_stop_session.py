"""StopRuntimeSession ends the session at once; the process is shut down in the background.

"When called, this operation instantly terminates the specified session and stops any ongoing
streaming responses" (https://docs.aws.amazon.com/bedrock-agentcore/latest/devguide/runtime-stop-session.html).
The process still gets SIGTERM and its grace period (AgentCore's "up to 15 seconds", the
emulator's default), but the caller does not wait for it, and calls in flight end.

What the session's next microVM reads afterwards is the record the stopped agent wrote on SIGTERM:
a resumable task (``sleep``) ``SUSPENDED`` with its checkpoint, which the next microVM resumes as
attempt 2, and a task that is not resumable (the test-only ``once`` kind) ``LOST``; never the old
attempt as ``RUNNING``.
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


def stop_during_a_long_poll(emulator: RunningEmulator, session_id: str, task_id: str) -> ClientError:
    """Hold a long-poll of ``task_id``, stop the session, and return how the poll ended; the stop
    and the end of the poll must each take under 2 s."""
    poll = {"action": "get_task_result", "task_id": task_id, "wait_seconds": 30}
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(invoke, emulator, session_id, poll)
        emulator.row_when(session_id, lambda row: row["in_flight"] == 1, 10)

        began = time.monotonic()
        emulator.boto().stop_runtime_session(agentRuntimeArn=emulator.arn, runtimeSessionId=session_id)
        stop_took = time.monotonic() - began
        with pytest.raises(ClientError) as caught:
            pending.result(timeout=AWS_GRACE_SECONDS + 10)
        poll_ended_after = time.monotonic() - began
    assert stop_took < 2, f"StopRuntimeSession waited {stop_took:.1f}s for the process"
    assert poll_ended_after < 2, f"the pending call ran on for {poll_ended_after:.1f}s after the stop"
    return caught.value


def test_stop_answers_at_once_and_ends_a_pending_long_poll(
    full_grace: RunningEmulator, session_id: str
) -> None:
    task_id = invoke(full_grace, session_id, {"action": "start_background_task", "duration": 120})["task_id"]
    [before] = full_grace.rows(session_id)
    ended = stop_during_a_long_poll(full_grace, session_id, task_id)
    assert ended.response["Error"]["Code"] == "RuntimeClientError"
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


@pytest.mark.parametrize(
    ("kind", "stopped_as"), [("sleep", "SUSPENDED"), ("once", "LOST")], ids=["resumable", "not-resumable"]
)
def test_after_the_stop_the_next_microvm_does_not_read_the_old_attempt_as_running(
    full_grace: RunningEmulator, session_id: str, kind: str, stopped_as: str
) -> None:
    start = {"action": "start_task", "kind": kind, "input": {"duration": 120}}
    task_id = invoke(full_grace, session_id, start)["task_id"]
    [before] = full_grace.rows(session_id)
    # Some work is done (and, for sleep, checkpointed) before the stop.
    wait_until(
        lambda: (full_grace.stored(session_id, task_id) or {}).get("progress") or None,
        10,
        "the task's first progress in the store",
    )
    stop_during_a_long_poll(full_grace, session_id, task_id)

    # No call in the session until the stopped agent has exited: what it left is all there is.
    wait_until(
        lambda: (full_grace.rows(session_id)[0]["state"] == "ended") or None,
        AWS_GRACE_SECONDS + 5,
        "the stopped microVM's process to exit",
    )
    assert not pid_alive(before["pid"])
    left = full_grace.stored(session_id, task_id)
    assert left is not None
    assert (left["status"], left["attempt"]) == (stopped_as, 1), left

    # The session's next microVM reads that record, never RUNNING of attempt 1.
    again = invoke(full_grace, session_id, {"action": "get_task_result", "task_id": task_id})
    old, new = full_grace.rows(session_id)
    assert (old["microvm"], new["state"]) == (before["microvm"], "running")
    if stopped_as == "LOST":
        assert (again["status"], again["attempt"], again["error"]["code"]) == ("LOST", 1, "TaskLost"), again
    else:  # resumed from its checkpoint as attempt 2, in the new microVM
        assert (again["status"], again["attempt"]) == ("RUNNING", 2), again
        assert again["progress"] >= left["progress"] > 0
        assert invoke(full_grace, session_id, {"action": "cancel_task", "task_id": task_id})["status"] == (
            "CANCELLED"
        )
