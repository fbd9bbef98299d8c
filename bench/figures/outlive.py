"""Figure 7: a task three times as long as a microVM's maximum lifetime, through the emulator.

Each microVM ends at its max lifetime (SIGTERM, as on AgentCore). Ours suspends the task with its
checkpoint and the next poll's microVM resumes it; the seed's thread dies with its microVM, so its
result never arrives however long the client polls.
"""

from __future__ import annotations

import time

from agentcore_async.client.api import WaitTimeout
from agentcore_async.client.session_table import fetch_session_table, microvms
from bench.config import BenchConfig
from bench.environment import OURS, SEED, AgentKind, Environment, emulator
from bench.figures.emulated import counting_client
from bench.processes import Server
from bench.results import FigureResult, Row
from bench.sessions import new_session_id

SEED_POLL_FRACTION = 0.1
CAUSE = "the seed keeps the work in a thread of one microVM: when the microVM ends, so does the task."


def _run(server: Server, kind: AgentKind, config: BenchConfig) -> tuple[bool, float, int]:
    """(completed, wall seconds, microVMs used) of one task of 3x the max lifetime."""
    session = new_session_id(f"outlive-{kind.label}")
    client = counting_client(server, session, long_poll_seconds=5)
    duration = 3 * config.outlive_lifetime_seconds
    began = time.monotonic()
    task_id = client.start(duration)
    timeout = duration * 2 + 20
    try:
        if kind is OURS:
            result = client.wait(task_id, timeout)
        else:
            from bench.baselines.polling import poll_fixed_interval  # noqa: PLC0415

            result = poll_fixed_interval(client, task_id, duration * SEED_POLL_FRACTION, timeout)
        completed = result.status == "COMPLETED"
    except WaitTimeout:
        completed = False
    wall = time.monotonic() - began
    used = len(microvms(fetch_session_table(server.url), session))
    return completed, wall, used


def run(env: Environment, config: BenchConfig) -> FigureResult:
    """Ours (start + wait) vs the seed (start + fixed polling), each through its own emulator."""
    lifetime = f"{config.outlive_lifetime_seconds:g}"
    flags = (
        "--fast-timers",
        "--max-lifetime",
        lifetime,
        "--idle-timeout",
        lifetime,
        "--ping-interval",
        "0.5",
    )
    agent_env = {"AGENT_HEARTBEAT_SECONDS": "0.5", "AGENT_LEASE_SECONDS": "3"}
    results = {}
    for kind in (OURS, SEED):
        with emulator(env, kind, *flags, agent_env=agent_env) as server:
            results[kind.label] = _run(server, kind, config)
    ours, seed = results["ours"], results["seed"]
    rows = (
        Row(
            7,
            "task of 3x the max lifetime completed",
            "yes=1",
            float(ours[0]),
            float(seed[0]),
            better="higher",
        ),
        Row(7, "wall time until the result (or giving up)", "s", ours[1], seed[1] if seed[0] else None),
        Row(7, "microVMs used", "count", float(ours[2]), float(seed[2]), note="informational"),
    )
    notes = (
        f"Max lifetime {lifetime} s (fast timers), task {3 * config.outlive_lifetime_seconds:g} s of work; "
        "each side runs in its own emulator on a shared SQLite store. Ours: `start` + `wait()`; "
        "the seed: `start` + a poll every tenth of the task, for up to twice the task's length plus 20 s.",
        "Ours pays a microVM start per lifetime and the time between SIGTERM and the next poll; "
        "the seed's result never arrives, so it has no wall time.",
    )
    return FigureResult(7, "A task three times the max lifetime", rows, notes, {rows[0].metric: CAUSE})
