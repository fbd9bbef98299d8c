"""The seed's timeline and the two timers, end to end with fast timers."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentcore_async.client.api import AgentError
from agentcore_async.client.models import TaskStatus
from tests.emulator.harness import (
    REPO_ROOT,
    RunningEmulator,
    emulator_env,
    pid_alive,
    running_emulator,
)


@pytest.fixture(scope="module")
def short_idle() -> Iterator[RunningEmulator]:
    """Idle timeout 1.5 s, max lifetime 60 s."""
    with running_emulator(
        "--idle-timeout", "1.5", "--max-lifetime", "60", "--ping-interval", "0.2"
    ) as running:
        yield running


@pytest.fixture(scope="module")
def short_life() -> Iterator[RunningEmulator]:
    """Idle timeout 1 s, max lifetime 15 s (agent start-up alone can take a few seconds)."""
    with running_emulator("--idle-timeout", "1", "--max-lifetime", "15", "--ping-interval", "0.2") as running:
        yield running


def new_session() -> str:
    return f"timeline-{uuid.uuid4().hex}"


def test_seed_timeline(short_idle: RunningEmulator) -> None:
    session_id = new_session()
    client = short_idle.agent_client(session_id)

    task_id = client.start(3)
    assert client.result(task_id).status is TaskStatus.RUNNING
    busy = short_idle.row_when(session_id, lambda row: row["ping_status"] == "HealthyBusy", 10)
    assert busy["state"] == "running"

    done = client.wait(task_id, 30)
    assert done.status is TaskStatus.COMPLETED
    short_idle.row_when(session_id, lambda row: row["ping_status"] == "Healthy", 10)

    gone = short_idle.row_when(session_id, lambda row: row["state"] == "ended", 15)
    assert gone["end_reason"] == "idle"
    assert not pid_alive(gone["pid"])
    assert not Path(gone["disk"]).exists()  # memory and disk are gone

    again = client.result(task_id)  # same session id: a new microVM, the result from the store
    assert again.status is TaskStatus.COMPLETED
    assert again.result == done.result
    first, second = short_idle.rows(session_id)
    assert (first["microvm"], first["pid"]) != (second["microvm"], second["pid"])
    assert second["state"] == "running"

    stranger = short_idle.agent_client(None)  # no session id: another microVM, another session
    with pytest.raises(AgentError) as caught:
        stranger.result(task_id)
    # The agent's TaskNotFound, as a 2xx error object or, relayed by AgentCore, as its 404.
    assert "TaskNotFound" in str(caught.value) or "Received error (404)" in caught.value.message
    assert len(short_idle.rows(session_id)) == 2


def test_idle_timer_restarts_with_each_invocation(short_idle: RunningEmulator) -> None:
    session_id = new_session()
    client = short_idle.agent_client(session_id)
    client.list()
    began = time.monotonic()
    while time.monotonic() - began < 3:  # twice the idle timeout, calling every 0.5 s
        client.list()
        time.sleep(0.5)
    [row] = short_idle.rows(session_id)
    assert row["state"] == "running"


@pytest.mark.slow
def test_healthy_busy_prevents_idle_but_max_lifetime_ends_the_microvm_and_the_next_resumes_the_task(
    short_life: RunningEmulator,
) -> None:
    session_id = new_session()
    client = short_life.agent_client(session_id)
    task_id = client.start(60)
    short_life.row_when(session_id, lambda row: row["ping_status"] == "HealthyBusy", 10)
    time.sleep(2.5)  # well past the 1 s idle timeout
    [row] = short_life.rows(session_id)
    if row["age_seconds"] < 14:  # a slow agent start-up may leave too little time to look
        assert row["state"] == "running"
        assert row["idle_seconds"] == 0.0

    ended = short_life.row_when(session_id, lambda row: row["state"] == "ended", 30)
    assert ended["end_reason"] == "max_lifetime"
    assert ended["age_seconds"] >= 15

    # A fresh microVM reads the record: the task was suspended at SIGTERM and is resumed there.
    resumed = client.result(task_id)
    assert (resumed.status, resumed.attempt) == (TaskStatus.RUNNING, 2), resumed
    assert resumed.progress is not None and resumed.progress > 0.1
    assert len(short_life.rows(session_id)) == 2


@pytest.mark.slow
def test_make_demo_prints_the_timeline() -> None:
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "emulator.demo", "--duration", "1.5", "--idle", "1.5"),
            *("--long", "8", "--lifetime", "4"),
        ],
        cwd=REPO_ROOT,
        env=emulator_env(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    out = completed.stdout
    for step in (
        "RUNNING",
        "HealthyBusy",
        "COMPLETED",
        "Healthy",
        "reason idle",
        "from the store",
        "cannot see",
        "list_kinds: sleep (resumable)",
        "start_task sleep of 8s",
        "the store holds the task SUSPENDED, attempt 1",
        "RUNNING, attempt 2",
        "ended at their max lifetime",
        "Task completed after 8s",
    ):
        assert step in out
    assert "once (not resumable)" in out  # the test agents' extra kind, named as list_kinds says
