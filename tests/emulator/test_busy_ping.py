"""What keeps an idle session alive: ``HealthyBusy`` together with ``time_of_last_update``.

AgentCore's idle reaper needs both fields of the ``/ping`` answer: with ``{"status":
"HealthyBusy"}`` alone, ``idleRuntimeSessionTimeout`` still fires at its boundary; with
``{"status": "HealthyBusy", "time_of_last_update": <unix s>}`` the session is kept. Sources:
"Runtime session lifecycle management" in
https://docs.aws.amazon.com/bedrock-agentcore/latest/devguide/runtime-long-run.html, and the
SDK's ``PingStatus`` contract (aws/bedrock-agentcore-sdk-python issue 471, pull request 517:
"time_of_last_update is required for the idle-reaper logic. If it is absent,
idleRuntimeSessionTimeout fires at the configured boundary even when status is HealthyBusy").
"""

from __future__ import annotations

import json
import shlex
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulator import scripted_agent
from tests.emulator.harness import RunningEmulator, running_emulator

SCRIPTED_AGENT = Path(scripted_agent.__file__).resolve()
IDLE_SECONDS = 1.5


@pytest.fixture(scope="module")
def short_idle() -> Iterator[RunningEmulator]:
    command = shlex.join([sys.executable, str(SCRIPTED_AGENT)])
    flags = ("--idle-timeout", str(IDLE_SECONDS), "--max-lifetime", "60", "--ping-interval", "0.2")
    with running_emulator("--agent-command", command, *flags) as running:
        yield running


def report(emulator: RunningEmulator, session_id: str, ping: dict[str, Any]) -> None:
    emulator.boto().invoke_agent_runtime(
        agentRuntimeArn=emulator.arn, runtimeSessionId=session_id, payload=json.dumps({"ping": ping})
    )["response"].read()


def test_healthy_busy_without_time_of_last_update_does_not_keep_the_session(
    short_idle: RunningEmulator,
) -> None:
    session_id = f"busy-no-time-{uuid.uuid4().hex}"
    report(short_idle, session_id, {"status": "HealthyBusy", "with_update_time": False})
    short_idle.row_when(session_id, lambda row: row["ping_status"] == "HealthyBusy", 10)
    ended = short_idle.row_when(session_id, lambda row: row["state"] != "running", 10 * IDLE_SECONDS)
    assert ended["end_reason"] == "idle"


def test_healthy_busy_with_time_of_last_update_keeps_the_session(short_idle: RunningEmulator) -> None:
    session_id = f"busy-with-time-{uuid.uuid4().hex}"
    report(short_idle, session_id, {"status": "HealthyBusy", "with_update_time": True})
    short_idle.row_when(session_id, lambda row: row["ping_status"] == "HealthyBusy", 10)
    busy_since = time.monotonic()
    while time.monotonic() - busy_since < 3 * IDLE_SECONDS:  # well past the idle timeout
        [row] = short_idle.rows(session_id)
        assert row["state"] == "running", row
        assert row["idle_seconds"] == 0.0
        time.sleep(0.1)
