"""Sessions that stop when their work is done: ``wait --stop-when-done`` and
``AgentClient.wait(..., stop_session_when_idle=True)`` against the emulator's session table.

AWS bills a session until its idle timeout ends it, so once the last task finished the client
calls StopRuntimeSession; a session with a task still running or suspended is left alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from agentcore_async.client.exit_codes import ExitCode
from tests.emulator.harness import REPO_ROOT, RunningEmulator

STOP_SLACK_SECONDS = 4.0
"""How long after the task's end its microVM may have ended: one list call, the stop call, and
the agent's SIGTERM shutdown (the harness's stop grace is 1 s), on 2 busy cores."""


def _cli(emulator: RunningEmulator, session_id: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "agentcore_async.client",
        *args,
        "--endpoint-url",
        emulator.url,
        "--runtime-arn",
        emulator.arn,
        "--session-id",
        session_id,
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _start(emulator: RunningEmulator, session_id: str, duration: float) -> str:
    client = emulator.agent_client(session_id)
    return client.start(duration)


def _newest(emulator: RunningEmulator, session_id: str) -> dict[str, Any]:
    return emulator.rows(session_id)[-1]


def _ended(emulator: RunningEmulator, session_id: str) -> dict[str, Any]:
    """The session's microVM once its process is gone (``ended_at`` is set then)."""
    return emulator.row_when(session_id, lambda row: row["state"] == "ended", 20)


def test_wait_stop_when_done_stops_the_session_right_after_its_last_task(
    emulator: RunningEmulator, session_id: str
) -> None:
    task_id = _start(emulator, session_id, 1)

    done = _cli(emulator, session_id, "wait", task_id, "--stop-when-done", "--json", "--long-poll", "5")

    assert done.returncode == ExitCode.OK, done.stderr
    task = json.loads(done.stdout)
    assert task["status"] == "COMPLETED"
    assert f"session {session_id} stopped" in done.stderr
    assert _newest(emulator, session_id)["end_reason"] == "stopped"  # at once, before it ended
    row = _ended(emulator, session_id)
    assert 0 <= row["ended_at"] - task["updated_at"] < STOP_SLACK_SECONDS, (row, task)
    # The result outlives the microVM: the next call starts a new one and reads it from the store.
    again = emulator.agent_client(session_id).result(task_id)
    assert (again.status.value, again.result) == ("COMPLETED", task["result"])


def test_a_session_with_another_running_task_is_left_running(
    emulator: RunningEmulator, session_id: str
) -> None:
    short = _start(emulator, session_id, 0.5)
    long = _start(emulator, session_id, 120)

    done = _cli(emulator, session_id, "wait", short, "--stop-when-done", "--long-poll", "5")

    assert done.returncode == ExitCode.OK, done.stderr
    assert "left running" in done.stderr
    row = _newest(emulator, session_id)
    assert (row["state"], row["end_reason"]) == ("running", None), row
    assert emulator.agent_client(session_id).cancel(long).status.value == "CANCELLED"


def test_the_library_stops_the_idle_session_after_wait(emulator: RunningEmulator, session_id: str) -> None:
    client = emulator.agent_client(session_id, long_poll_seconds=5)
    first = client.start(0.3)
    second = client.start(3)  # still running when the first's wait returns, even on a loaded machine
    client.wait(first, 30, stop_session_when_idle=True)
    assert _newest(emulator, session_id)["end_reason"] is None  # the second still ran
    finished = client.wait(second, 30, stop_session_when_idle=True)
    assert _newest(emulator, session_id)["end_reason"] == "stopped"
    row = _ended(emulator, session_id)
    assert row["ended_at"] - finished.updated_at < STOP_SLACK_SECONDS
