"""Figure 3: completion-notice latency and invocations per task, long-poll wait() vs fixed polling."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from agentcore_async.client.models import TaskResult
from bench.baselines.polling import CountingClient, poll_fixed_interval
from bench.config import NOTICE_SCALE, BenchConfig
from bench.environment import OURS, SEED, AgentKind, Environment, emulator
from bench.figures.emulated import counting_client
from bench.processes import Server
from bench.results import FigureResult, Row, Target
from bench.sessions import new_session_id
from bench.stats import Summary, median

SAME_INVOCATIONS_TARGET = Target(">= 10x lower at the same invocations", 10.0, "min", on="gain")
SAME_LATENCY_TARGET = Target(">= 5x fewer at the same notice latency", 5.0, "min", on="gain")
LATENCY_TARGET = Target("<= 1 s", 1.0, "max")
MIN_MATCHED_INTERVAL = 0.005
CAUSE = (
    "a long-poll holds each call open until the task finishes, so ours pays the answer time of "
    "the agent and emulator once per call; at equal calls fixed polling can only win by luck."
)


@dataclass(frozen=True)
class Outcome:
    """Notice latencies (s) and invocations per task of one strategy."""

    latencies: list[float]
    invocations: list[int]

    @property
    def latency(self) -> Summary:
        return Summary.of(self.latencies)

    @property
    def mean_invocations(self) -> float:
        return sum(self.invocations) / len(self.invocations)


def _notice(result: TaskResult) -> float:
    """Seconds between the task's final store write and now (the client knowing)."""
    known = time.time()
    if not isinstance(result.updated_at, int | float):
        raise RuntimeError(f"task {result.task_id} has no numeric updated_at")
    return max(0.0, known - float(result.updated_at))


def _one_task(
    server: Server, session: str, duration: float, interval: float | None, config: BenchConfig
) -> tuple[float, int]:
    client: CountingClient = counting_client(server, session, config.long_poll_seconds)
    task_id = client.start(duration)
    timeout = duration * 3 + 30
    if interval is None:
        result = client.wait(task_id, timeout)
    else:
        result = poll_fixed_interval(client, task_id, interval, timeout)
    if result.status != "COMPLETED":
        raise RuntimeError(f"task {task_id} ended {result.status}")
    return _notice(result), client.invocations


def _strategy(
    server: Server, kind: AgentKind, durations: list[float], interval: float | None, config: BenchConfig
) -> Outcome:
    session = new_session_id(f"notice-{kind.label}")
    with ThreadPoolExecutor(max_workers=len(durations)) as pool:
        done = list(pool.map(lambda d: _one_task(server, session, d, interval, config), durations))
    return Outcome([latency for latency, _ in done], [calls for _, calls in done])


def run(env: Environment, config: BenchConfig) -> FigureResult:
    """Ours (wait) and the seed's loop at its own interval, concurrently; then at a matched interval."""
    rng = random.Random(3)
    spread = [config.notice_task_seconds * rng.uniform(0.8, 1.2) for _ in range(config.notice_tasks)]
    with emulator(env, OURS) as ours_emu, emulator(env, SEED) as seed_emu, ThreadPoolExecutor(2) as pool:
        ours_future = pool.submit(_strategy, ours_emu, OURS, spread, None, config)
        seed_future = pool.submit(_strategy, seed_emu, SEED, spread, config.seed_poll_seconds, config)
        ours, seed = ours_future.result(), seed_future.result()
        matched_interval = max(MIN_MATCHED_INTERVAL, median(ours.latencies) / 2)
        matched = _strategy(seed_emu, SEED, spread[: config.latency_matched_tasks], matched_interval, config)
    rows = (
        Row(
            3,
            "notice latency p50, same invocations",
            "s",
            ours.latency.p50,
            seed.latency.p50,
            target=SAME_INVOCATIONS_TARGET,
        ),
        Row(
            3,
            "notice latency p99, same invocations",
            "s",
            ours.latency.p99,
            seed.latency.p99,
            target=LATENCY_TARGET,
        ),
        Row(
            3, "invocations per task, seed's interval", "calls", ours.mean_invocations, seed.mean_invocations
        ),
        Row(
            3,
            "invocations per task, same notice latency",
            "calls",
            ours.mean_invocations,
            matched.mean_invocations,
            target=SAME_LATENCY_TARGET,
        ),
        Row(3, "notice latency p50, matched interval", "s", ours.latency.p50, matched.latency.p50),
    )
    notes = (
        f"Scale {NOTICE_SCALE}x: {config.notice_tasks} tasks of {config.notice_task_seconds:g} s +-20 % "
        f"(random, the same for both sides), so each finishes at a random point of a polling interval.",
        f"Ours: `AgentClient.wait()` long-polling up to {config.long_poll_seconds} s per call "
        f"(60 s real, the API's maximum). Seed: sleep {config.seed_poll_seconds:g} s, ask, repeat "
        "(60 s real, as in the post): the same number of calls per task, so the latency rows compare "
        "at equal invocations.",
        f"Matched interval: the seed loop again with {matched_interval * 1000:.0f} ms between polls "
        f"(half our median notice latency, at least 5 ms) on {config.latency_matched_tasks} of the "
        "tasks; its invocation count is what fixed polling pays to be about as quick as the long-poll.",
        "Notice latency: the client's clock when the finished answer arrives minus the task's "
        "`updated_at` (written when it finished); invocations include the start call. Both go "
        "through the emulator with boto3, as against AWS.",
    )
    return FigureResult(
        3,
        "Completion notice: long-poll wait() vs fixed-interval polling",
        rows,
        notes,
        {row.metric: CAUSE for row in rows},
    )
