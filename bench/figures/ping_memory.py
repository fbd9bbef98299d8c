"""Figures 2 and 5: /ping latency while tasks run, and memory per idle process and per 1,000 tasks."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from bench.config import BenchConfig
from bench.cpu_load import SECONDS_ENV, START_FILE_ENV, THREADS_ENV
from bench.environment import OURS, SEED, AgentKind, Environment
from bench.http import HttpConnection
from bench.load import invoke, ping_samples, run_to_completion, start_tasks
from bench.processes import rss_bytes
from bench.results import FigureResult, Row, Target
from bench.sessions import new_session_id
from bench.stats import Summary

PING_TARGET_TASKS = 1000
PING_TARGET = Target("p99 <= 20 ms with 1,000 tasks", 20.0, "max")
MIB = 1024 * 1024
SETTLE_SECONDS = 0.5
PING_ROUNDS = 4
PING_CAUSES = {
    "idle": (
        "not known for certain: with nothing running both agents serve /ping from the same "
        "uvicorn/Starlette stack (ours answers on the event loop, the SDK's default handler in a "
        "worker thread), and neither does any other work, so a p99 gap at this level is run-to-run "
        "noise unless it repeats across runs."
    ),
    "tasks": (
        "ours runs each task as an asyncio task on the event loop that also answers /ping, and "
        "every task writes a heartbeat to the store each 10 s through a thread pool (about 100 "
        "writes/s at 1,000 tasks); the seed's tasks are OS threads asleep in time.sleep that cost "
        "nothing until they finish. At 100 tasks that work is small, so a gap there is mostly "
        "run-to-run noise from other load on the machine."
    ),
    "cpu": (
        "the seed's CPU threads hold its GIL in 5 ms slices, so its /ping waits for the interpreter; "
        "ours computes in worker processes and its event loop only competes for the cores."
    ),
}
MEMORY_CAUSE = (
    "ours loads more at start-up (pydantic models for payload validation and settings, the task "
    "engine, structured logging); strands is imported only when a prompt arrives."
)


@dataclass(frozen=True)
class KindResult:
    """One agent's measurements."""

    pings: dict[int, Summary]
    cpu_ping: Summary
    idle_rss: int
    rss_per_thousand: float


def _under_tasks(env: Environment, config: BenchConfig) -> dict[str, tuple[dict[int, Summary], int, float]]:
    """Both agents side by side, pinged in alternating rounds so both see the same background load.

    Each agent is its own process with its own tasks; only the pinging alternates, so one agent's
    tasks cost the other nothing but their (small) share of the CPU.
    """
    parked = {"action": "start_background_task", "duration": config.parked_task_seconds}
    kinds = (OURS, SEED)
    per_round = max(1, config.ping_samples // PING_ROUNDS)
    samples: dict[str, dict[int, list[float]]] = {k.label: {c: [] for c in config.task_counts} for k in kinds}
    with env.agent(OURS, "embedded") as ours, env.agent(SEED, "embedded") as seed:
        servers = {OURS.label: ours, SEED.label: seed}
        sessions = {k.label: new_session_id(f"ping-{k.label}") for k in kinds}
        for label, server in servers.items():
            asyncio.run(run_to_completion(server.port, sessions[label], 0.05))
        time.sleep(SETTLE_SECONDS)
        idle_rss = {label: rss_bytes(server.pid) for label, server in servers.items()}
        running = 0
        for count in config.task_counts:
            if count > running:
                for label, server in servers.items():
                    asyncio.run(start_tasks(server.port, sessions[label], count - running, parked))
                running = count
                time.sleep(SETTLE_SECONDS)
            for round_number in range(PING_ROUNDS):
                order = kinds if round_number % 2 == 0 else kinds[::-1]
                for kind in order:
                    taken, statuses = asyncio.run(
                        ping_samples(servers[kind.label].port, per_round, config.ping_spacing_seconds)
                    )
                    expected = "HealthyBusy" if count else "Healthy"
                    if statuses != {expected}:
                        raise RuntimeError(f"{kind.label}: /ping said {statuses} with {count} tasks")
                    samples[kind.label][count].extend(taken)
        loaded_rss = {label: rss_bytes(server.pid) for label, server in servers.items()}
    return {
        label: (
            {count: Summary.of(values) for count, values in samples[label].items()},
            idle_rss[label],
            (loaded_rss[label] - idle_rss[label]) * 1000.0 / max(running, 1),
        )
        for label in servers
    }


SPIN_ROUND_SECONDS = 0.25


async def _start_spins(port: int, count: int, seconds: float) -> None:
    """Start ``count`` tasks of the CPU-bound ``spin`` kind (ours runs them in worker processes)."""
    conn = HttpConnection(port)
    session = new_session_id("cpu")
    rounds = max(1, round(seconds / SPIN_ROUND_SECONDS))
    task_input = {"rounds": rounds, "round_seconds": SPIN_ROUND_SECONDS}
    try:
        for _ in range(count):
            await invoke(conn, session, {"action": "start_task", "kind": "spin", "input": task_input})
    finally:
        await conn.close()


def _under_cpu(env: Environment, kind: AgentKind, config: BenchConfig) -> Summary:
    if kind is OURS:
        with env.agent(kind, "embedded", {"AGENT_EXTRA_KINDS": "bench.kinds"}) as server:
            asyncio.run(_start_spins(server.port, config.cpu_tasks, config.cpu_task_seconds))
            time.sleep(0.5)  # the workers have started computing
            window = config.cpu_task_seconds - 1.0
            samples, _ = asyncio.run(
                ping_samples(server.port, config.ping_samples, config.ping_spacing_seconds, window)
            )
        return Summary.of(samples)
    start_file = env.workdir / f"cpu-start-{kind.label}"
    start_file.unlink(missing_ok=True)
    extra = {
        THREADS_ENV: str(config.cpu_tasks),
        SECONDS_ENV: str(config.cpu_task_seconds),
        START_FILE_ENV: str(start_file),
    }
    with env.agent(kind, "embedded", extra, wrapper="bench.cpu_load") as server:
        start_file.touch()
        time.sleep(0.2)
        window = config.cpu_task_seconds - 1.0
        samples, _ = asyncio.run(
            ping_samples(server.port, config.ping_samples, config.ping_spacing_seconds, window)
        )
    start_file.unlink(missing_ok=True)
    return Summary.of(samples)


def _measure(env: Environment, config: BenchConfig) -> tuple[KindResult, KindResult]:
    under_tasks = _under_tasks(env, config)
    results = []
    for kind in (OURS, SEED):
        pings, idle_rss, per_thousand = under_tasks[kind.label]
        results.append(KindResult(pings, _under_cpu(env, kind, config), idle_rss, per_thousand))
    return results[0], results[1]


def run(env: Environment, config: BenchConfig) -> tuple[FigureResult, FigureResult]:
    """Figure 2 (ping) and figure 5 (memory) from the same processes."""
    ours, seed = _measure(env, config)
    most = max(config.task_counts)
    ping_rows: list[Row] = []
    for count in config.task_counts:
        target = PING_TARGET if count == PING_TARGET_TASKS else None
        ping_rows.append(
            Row(
                2,
                f"ping p99, {count:,} tasks running",
                "ms",
                ours.pings[count].p99,
                seed.pings[count].p99,
                target=target,
            )
        )
    cpu_target = Target(f"p99 <= 20 ms with {config.cpu_tasks} CPU-bound tasks", 20.0, "max")
    ping_rows.append(
        Row(
            2,
            f"ping p99, {config.cpu_tasks} CPU-bound tasks",
            "ms",
            ours.cpu_ping.p99,
            seed.cpu_ping.p99,
            target=cpu_target,
        )
    )
    ping_notes = (
        f"{config.ping_samples} pings {config.ping_spacing_seconds * 1000:g} ms apart per level and agent, "
        f"on the embedded store; tasks are parked {config.parked_task_seconds:g} s sleeps started over 8 "
        "connections. /ping must answer HealthyBusy at every level with tasks (checked).",
        f"Both agents run at once, each in its own process with its own tasks, and are pinged in "
        f"{PING_ROUNDS} alternating rounds, so bursts of other load on the machine hit both alike.",
        f"CPU-bound: {config.cpu_tasks} tasks (2 x {config.cores} cores) of pure-Python arithmetic for "
        f"{config.cpu_task_seconds:g} s. Ours: tasks of the CPU-bound `spin` kind (`bench/kinds.py`), "
        "which the agent runs in worker processes. The seed has no task kinds and runs work in threads "
        "of its own interpreter, so `bench.cpu_load` starts that many threads there.",
    )
    causes = {row.metric: PING_CAUSES["tasks"] for row in ping_rows}
    causes[ping_rows[0].metric] = PING_CAUSES["idle"]
    causes[ping_rows[-1].metric] = PING_CAUSES["cpu"]
    ping = FigureResult(2, "/ping latency while tasks run", tuple(ping_rows), ping_notes, causes)
    memory_rows = (
        Row(5, "RSS of an idle session process", "MiB", ours.idle_rss / MIB, seed.idle_rss / MIB),
        Row(
            5, "RSS per 1,000 running tasks", "MiB", ours.rss_per_thousand / MIB, seed.rss_per_thousand / MIB
        ),
    )
    memory_notes = (
        "Idle: resident set size (VmRSS) after serving one short task to completion and 0.5 s of quiet.",
        f"Per 1,000 tasks: RSS growth from idle to {most:,} parked tasks, scaled to 1,000.",
    )
    memory = FigureResult(
        5, "Memory", memory_rows, memory_notes, {row.metric: MEMORY_CAUSE for row in memory_rows}
    )
    return ping, memory
