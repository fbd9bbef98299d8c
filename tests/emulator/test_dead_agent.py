"""A session whose agent died is served by a new microVM on the very next call.

The timers run at AgentCore's pace here (a 15 s ping), so the emulator has not noticed the death
on its own yet when the call arrives: the call itself must find out and replace the microVM.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.harness import RunningEmulator, pid_alive, refuses, running_emulator, wait_until


@pytest.fixture(scope="module")
def slow_pings() -> Iterator[RunningEmulator]:
    with running_emulator(
        "--idle-timeout", "60", "--max-lifetime", "600", "--ping-interval", "15"
    ) as running:
        yield running


@pytest.fixture(scope="module")
def wrapped() -> Iterator[RunningEmulator]:
    """Agents started by a shell that outlives them, as a container's init process would."""
    command = shlex.join(["sh", "-c", f"{shlex.quote(sys.executable)} -m agent; exec sleep 600"])
    flags = ("--idle-timeout", "60", "--max-lifetime", "600", "--ping-interval", "15")
    with running_emulator("--agent-command", command, *flags) as running:
        yield running


def list_tasks(emulator: RunningEmulator, session_id: str) -> Any:
    response = emulator.boto().invoke_agent_runtime(
        agentRuntimeArn=emulator.arn, runtimeSessionId=session_id, payload=b'{"action": "list_tasks"}'
    )
    return json.loads(response["response"].read())


def kill_9(pid: int, port: int) -> None:
    """SIGKILL ``pid`` and wait until it is gone and its listening port refuses connections: the
    kernel may report a killed process gone a little before it has closed its sockets."""
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: True if not pid_alive(pid) else None, 10, f"pid {pid} to die")
    wait_until(lambda: True if refuses(port) else None, 10, f"port {port} of pid {pid} to refuse connections")


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in text.split()]


def test_kill_9_then_an_immediate_call_lands_on_a_new_microvm(
    slow_pings: RunningEmulator, session_id: str
) -> None:
    assert list_tasks(slow_pings, session_id)["tasks"] == []
    [first] = slow_pings.rows(session_id)
    kill_9(first["pid"], first["port"])

    assert list_tasks(slow_pings, session_id)["tasks"] == []  # no 424: a replacement answered
    old, new = slow_pings.rows(session_id)
    assert old["microvm"] == first["microvm"]
    assert old["end_reason"] == "unhealthy"
    assert (new["state"], new["invocations"]) == ("running", 1)
    assert new["pid"] != first["pid"]


def test_an_agent_that_refuses_connections_is_replaced_and_the_call_retried(
    wrapped: RunningEmulator, session_id: str
) -> None:
    assert list_tasks(wrapped, session_id)["tasks"] == []
    [first] = wrapped.rows(session_id)
    [agent] = wait_until(lambda: children(first["pid"]) or None, 10, "the shell's agent child")
    kill_9(agent, first["port"])  # the microVM's process lives on, but nothing listens on its port any more
    assert pid_alive(first["pid"])

    try:
        assert list_tasks(wrapped, session_id)["tasks"] == []  # refused, so never delivered: retried
    except Exception as error:
        raise AssertionError(f"{error}\nemulator log:\n{wrapped.logs()[-4000:]}") from error
    old, new = wrapped.rows(session_id)
    assert old["end_reason"] == "unhealthy"
    assert new["state"] == "running"
    wait_until(lambda: True if not pid_alive(first["pid"]) else None, 10, "the old microVM to be destroyed")
