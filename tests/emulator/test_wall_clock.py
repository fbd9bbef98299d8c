"""Timers measure durations on a monotonic clock: a jump of the wall clock ends no microVM.

The runtime runs in-process here with its wall clock injected, so the test can move it by
nine hours (past AgentCore's longest max lifetime, 28800 s) without touching the machine's.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from emulator.config import DEFAULT_RUNTIME_ARN, EmulatorConfig
from emulator.microvm import MicroVM, VmState
from emulator.runtime import Runtime
from tests.emulator import scripted_agent

SCRIPTED_AGENT = Path(scripted_agent.__file__).resolve()
NINE_HOURS = 9 * 3600.0


class MovableWallClock:
    """``time.time`` plus however far the test has moved it."""

    def __init__(self) -> None:
        self.moved = 0.0

    def __call__(self) -> float:
        return time.time() + self.moved


async def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(0.02)


async def with_runtime(wall: MovableWallClock, scenario: Callable[[Runtime], Awaitable[None]]) -> None:
    config = EmulatorConfig(
        agent_command=(sys.executable, str(SCRIPTED_AGENT)),
        ping_interval=0.2,
        stop_grace=1,
        agent_output="quiet",
    ).validate()  # AgentCore's default timers: idle 900 s, max lifetime 28800 s
    runtime = Runtime(config, clock=wall)
    await runtime.start()
    try:
        await scenario(runtime)
    finally:
        await runtime.close()


async def microvm(runtime: Runtime, session_id: str, ping_status: str) -> MicroVM:
    vm = await runtime.acquire(DEFAULT_RUNTIME_ARN, session_id)
    try:
        assert vm.process is not None
        script = {"ping": {"status": ping_status, "with_update_time": True}}
        answer = await runtime.http.post(f"http://127.0.0.1:{vm.process.port}/invocations", json=script)
        assert answer.status_code == 200
    finally:
        runtime.release(vm)
    await until(lambda: vm.ping_status == ping_status, 10, f"ping {ping_status}")
    return vm


def test_a_nine_hour_wall_clock_jump_terminates_no_microvm() -> None:
    wall = MovableWallClock()

    async def scenario(runtime: Runtime) -> None:
        busy = await microvm(runtime, "wall-clock-busy-" + "0" * 24, "HealthyBusy")
        idle = await microvm(runtime, "wall-clock-idle-" + "0" * 24, "Healthy")
        shown_start = {row["microvm"]: row["started_at"] for row in runtime.table()}
        wall.moved = NINE_HOURS

        watched_until = time.monotonic() + 1.5  # several pings and many timer ticks
        while time.monotonic() < watched_until:
            for vm in (busy, idle):
                assert vm.state is VmState.RUNNING, f"microVM {vm.number} ended: {vm.end_reason}"
            await asyncio.sleep(0.05)
        for row in runtime.table():
            assert row["age_seconds"] < 60, row  # durations ignore the jump...
            assert row["started_at"] == shown_start[row["microvm"]]  # ...the start shown stays put
        assert runtime.table()[0]["last_ping_seconds_ago"] < 1

    asyncio.run(with_runtime(wall, scenario))
