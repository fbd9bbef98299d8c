"""Figure 8: billed microVM-seconds per completed task, per lifecycle preset, through the emulator.

AgentCore bills a session's microVM from its start until it ends: at the idle timeout after the
last sign of work, or at once on StopRuntimeSession. Each side runs one task per session and the
figure reads how long each microVM lived from the emulator's session table:

* the seed: its agent, and its client polling every (scaled) 60 s, then leaving the session idle;
* ours without stopping: ``start`` + ``wait()``, then the session idles out like the seed's;
* ours with stopping: ``wait(..., stop_session_when_idle=True)`` stops it once its task finished.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from agentcore_async.client.session_table import fetch_session_table, microvms
from agentcore_async.contract import PRESETS, PresetName
from bench.config import BILLING_SCALE, BenchConfig
from bench.environment import OURS, SEED, AgentKind, Environment, emulator
from bench.figures.emulated import counting_client
from bench.processes import Server
from bench.results import FigureResult, Row
from bench.sessions import new_session_id

Variant = tuple[AgentKind, bool]
"""Which agent and client, and whether the client stops the session when its work is done."""
SEED_PATTERN: Variant = (SEED, False)
OURS_IDLE: Variant = (OURS, False)
OURS_STOP: Variant = (OURS, True)
ENDED_POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Billed:
    """What one variant cost under one preset."""

    seconds_per_task: float
    completed: int


def _one_session(server: Server, variant: Variant, config: BenchConfig, label: str) -> tuple[str, bool]:
    """Run one task in a fresh session as ``variant`` does; (session id, completed)."""
    kind, stop = variant
    session = new_session_id(f"billing-{label}")
    client = counting_client(server, session, long_poll_seconds=config.billing_long_poll_seconds)
    task_id = client.start(config.billing_task_seconds)
    timeout = config.billing_task_seconds * 4 + 20
    if kind is SEED:
        from bench.baselines.polling import poll_fixed_interval  # noqa: PLC0415

        result = poll_fixed_interval(client, task_id, config.billing_seed_poll_seconds, timeout)
    else:
        result = client.wait(task_id, timeout, stop_session_when_idle=stop)
    return session, result.status == "COMPLETED"


def _billed_seconds(server: Server, session: str, timeout: float) -> float:
    """How long the session's microVMs lived, once every one of them has ended."""
    deadline = time.monotonic() + timeout
    while True:
        rows = microvms(fetch_session_table(server.url), session)
        if rows and all(row["state"] == "ended" for row in rows):
            return float(sum(row["age_seconds"] for row in rows))
        if time.monotonic() > deadline:
            raise TimeoutError(f"session {session} still has a live microVM after {timeout:g}s")
        time.sleep(ENDED_POLL_SECONDS)


def _measure(server: Server, variant: Variant, config: BenchConfig, idle: float, label: str) -> Billed:
    sessions = config.billing_sessions
    with ThreadPoolExecutor(sessions) as pool:
        runs = list(
            pool.map(lambda n: _one_session(server, variant, config, f"{label}-{n}"), range(sessions))
        )
    completed = sum(done for _, done in runs)
    wait_for_end = idle + config.billing_task_seconds * 4 + 30
    seconds = [_billed_seconds(server, session, wait_for_end) for session, _ in runs]
    return Billed(sum(seconds) / max(1, completed), completed)


def _flags(preset: PresetName) -> tuple[str, ...]:
    lifecycle = PRESETS[preset]
    return (
        "--fast-timers",
        "--idle-timeout",
        f"{lifecycle.idle_timeout_seconds / BILLING_SCALE:g}",
        "--max-lifetime",
        f"{lifecycle.max_lifetime_seconds / BILLING_SCALE:g}",
        "--ping-interval",
        "0.5",
    )


def run(env: Environment, config: BenchConfig) -> FigureResult:
    """Every preset: the seed's pattern, ours idling out, ours stopping when done."""
    agent_env = {"AGENT_HEARTBEAT_SECONDS": "0.5", "AGENT_LEASE_SECONDS": "3"}
    rows: list[Row] = []
    for preset in config.billing_presets:
        idle = PRESETS[preset].idle_timeout_seconds / BILLING_SCALE
        flags = _flags(preset)
        with (
            emulator(env, SEED, *flags, agent_env=agent_env) as seed_server,
            emulator(env, OURS, *flags, agent_env=agent_env) as ours_server,
            ThreadPoolExecutor(3) as pool,
        ):
            seed = pool.submit(_measure, seed_server, SEED_PATTERN, config, idle, f"{preset}-seed")
            idling = pool.submit(_measure, ours_server, OURS_IDLE, config, idle, f"{preset}-idle")
            stopping = pool.submit(_measure, ours_server, OURS_STOP, config, idle, f"{preset}-stop")
            measured = {"seed": seed.result(), "idle": idling.result(), "stop": stopping.result()}
        for name, billed in measured.items():
            if billed.completed < config.billing_sessions:
                raise RuntimeError(
                    f"{preset}/{name}: {billed.completed} of {config.billing_sessions} completed"
                )
        task = config.billing_task_seconds * BILLING_SCALE
        unit = f"s at 1/{BILLING_SCALE}"
        rows += [
            Row(
                8,
                f"{preset}: billed per {task:g} s task, ours idling out",
                unit,
                measured["idle"].seconds_per_task,
                measured["seed"].seconds_per_task,
            ),
            Row(
                8,
                f"{preset}: billed per {task:g} s task, ours stopping when done",
                unit,
                measured["stop"].seconds_per_task,
                measured["seed"].seconds_per_task,
            ),
        ]
    poll = config.billing_seed_poll_seconds
    notes = (
        f"Scaled {BILLING_SCALE}x: a {config.billing_task_seconds * BILLING_SCALE:g} s task runs "
        f"{config.billing_task_seconds:g} s, the seed polls every {poll * BILLING_SCALE:g} s "
        f"({poll:g} s here), "
        f"and each preset's idle timeout and max lifetime are divided by {BILLING_SCALE} (emulator fast "
        f"timers); the seconds shown are emulator seconds at that scale. {config.billing_sessions} "
        "session(s) per side and preset, one task each; billed = how long each session's microVMs "
        "lived in the emulator's session table (from the process start to the end of its SIGTERM "
        "shutdown). Starting and stopping a process takes about a second that does not scale down, "
        "so at real scale the idle timeout weighs even more than shown: a 60 s task costs about "
        "60 s + the idle timeout when the session idles out (360 s `development`, 960 s "
        "`interactive`, 1,860 s `long-running`) and about 61 s when it is stopped.",
        "Without stopping, a session costs its task plus the whole idle timeout (and, for the seed, "
        "up to one poll interval more before its client learns the task finished): the idle timeout "
        "dominates for short tasks, most of all under `long-running` (1,800 s). Stopping when done "
        "costs the task plus one list and one stop call.",
        "Recommendation: `interactive` for chat-like use where the same user comes back within "
        "minutes (the warm microVM is worth its idle time); `long-running` with "
        "`wait --stop-when-done` (or `stop_session_when_idle=True`) for batch and research tasks, "
        "so an 8-hour lifetime never adds 30 idle minutes per task; `development` while iterating.",
    )
    return FigureResult(8, "Billed microVM-seconds per completed task", tuple(rows), notes)
