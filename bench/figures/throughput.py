"""Figure 4: tasks completed per second end to end through the emulator, for 1, 5 and 20 sessions."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bench.baselines.polling import CountingClient, poll_fixed_interval
from bench.config import BenchConfig
from bench.environment import OURS, SEED, AgentKind, Environment, emulator
from bench.figures.emulated import counting_client
from bench.processes import Server
from bench.results import FigureResult, Row
from bench.sessions import new_session_id

SEED_POLL_FRACTION = 0.1
"""The seed polls every 60 s for a 600 s task: a tenth of the task's duration."""
CAUSE = (
    "every task costs the seed about ten polls through the emulator; ours one start and one "
    "long-poll, so the seed runs out of CPU first."
)


def _worker(
    client: CountingClient, kind: AgentKind, config: BenchConfig, *, window_end: float, stop: threading.Event
) -> int:
    duration = config.throughput_task_seconds
    completed = 0
    while not stop.is_set():
        task_id = client.start(duration)
        timeout = duration * 10 + 30
        if kind is OURS:
            result = client.wait(task_id, timeout)
        else:
            result = poll_fixed_interval(client, task_id, duration * SEED_POLL_FRACTION, timeout)
        if result.status != "COMPLETED":
            raise RuntimeError(f"task {task_id} ended {result.status}")
        if time.monotonic() <= window_end:
            completed += 1
    return completed


def _tasks_per_second(server: Server, kind: AgentKind, sessions: list[str], config: BenchConfig) -> float:
    stop = threading.Event()
    # boto3 clients are built before the window opens: building one costs more than a poll.
    per_session = config.tasks_in_flight_per_session
    clients = [counting_client(server, s) for s in sessions for _ in range(per_session)]
    window_end = time.monotonic() + config.throughput_window_seconds
    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        futures = [pool.submit(_worker, c, kind, config, window_end=window_end, stop=stop) for c in clients]
        time.sleep(max(0.0, window_end - time.monotonic()))
        stop.set()
        completed = sum(f.result() for f in futures)
    return completed / config.throughput_window_seconds


def _warm(server: Server, sessions: list[str]) -> None:
    """Start every session's microVM before the clock runs (one short task each)."""

    def one(session: str) -> None:
        client = counting_client(server, session)
        poll_fixed_interval(client, client.start(0.05), 0.05, 60)

    with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
        list(pool.map(one, sessions))


def _measure(env: Environment, kind: AgentKind, config: BenchConfig) -> dict[int, float]:
    sessions = [new_session_id(f"tput-{kind.label}-{i}") for i in range(max(config.session_counts))]
    rates: dict[int, float] = {}
    with emulator(env, kind) as server:
        _warm(server, sessions)
        for count in config.session_counts:
            rates[count] = _tasks_per_second(server, kind, sessions[:count], config)
    return rates


def run(env: Environment, config: BenchConfig) -> FigureResult:
    """Ours (start + wait) vs the seed (start + fixed polling), each through its own emulator."""
    ours, seed = _measure(env, OURS, config), _measure(env, SEED, config)
    rows = tuple(
        Row(
            4,
            f"tasks completed per second, {n} session{'s' if n > 1 else ''}",
            "tasks/s",
            ours[n],
            seed[n],
            better="higher",
        )
        for n in config.session_counts
    )
    notes = (
        f"Each session (one agent process, as one microVM) keeps {config.tasks_in_flight_per_session} "
        f"tasks of {config.throughput_task_seconds:g} s in flight; tasks finishing within a "
        f"{config.throughput_window_seconds:g} s window are counted. All session processes are started "
        "before the window.",
        "Ours: `AgentClient.start` + `wait()` (long-poll). Seed: start + a poll every "
        f"{config.throughput_task_seconds * SEED_POLL_FRACTION * 1000:.0f} ms (a tenth of the task, "
        "as in the post). Same emulator, same embedded store directory, same machine.",
        "The clients are threads of the benchmark's own Python process on the same cores, so at 20 "
        "sessions the driver, the emulator and the agents compete for the CPU on both sides.",
    )
    return FigureResult(
        4, "Tasks completed per second through the emulator", rows, notes, {row.metric: CAUSE for row in rows}
    )
