"""Figure 1: start_background_task response time, sequential and with concurrent clients."""

from __future__ import annotations

import asyncio
from typing import Any

from bench.config import BenchConfig
from bench.environment import OURS, SEED, AgentKind, Environment, StoreKind
from bench.load import timed_concurrent, timed_sequential
from bench.results import FigureResult, Row, Target
from bench.sessions import new_session_id
from bench.stats import Summary

STORES: tuple[StoreKind, ...] = ("embedded", "dynamodb")
START_P99_TARGET = Target("p99 <= 5 ms", 5.0, "max")
CAUSES = {
    "sequential": (
        "ours writes the task record (status RUNNING, heartbeat, expiry) to the store and waits for "
        "it before answering, so a task whose microVM dies is reported LOST instead of vanishing; "
        "the seed answers before writing anything and only stores the result at the end."
    ),
}


def _measure(
    env: Environment, kind: AgentKind, store: StoreKind, config: BenchConfig
) -> tuple[Summary, Summary]:
    def payload(_: int) -> dict[str, Any]:
        return {"action": "start_background_task", "duration": config.start_task_seconds}

    session = new_session_id(f"start-{kind.label}")
    with env.agent(kind, store) as server:
        asyncio.run(timed_sequential(server.port, session, config.warmup_starts, payload))
        sequential = asyncio.run(timed_sequential(server.port, session, config.sequential_starts, payload))
        clients, each = config.concurrent_clients, config.starts_per_client
        concurrent = asyncio.run(timed_concurrent(server.port, session, clients, each, payload))
    return Summary.of(sequential), Summary.of(concurrent)


def run(env: Environment, config: BenchConfig) -> FigureResult:
    """Measure both agents on both stores."""
    rows: list[Row] = []
    causes: dict[str, str] = {}
    clients = config.concurrent_clients
    for store in STORES:
        ours_seq, ours_conc = _measure(env, OURS, store, config)
        seed_seq, seed_conc = _measure(env, SEED, store, config)
        label = "embedded SQLite" if store == "embedded" else "DynamoDB (moto server)"
        modes = (("sequential", ours_seq, seed_seq), (f"{clients} clients", ours_conc, seed_conc))
        for mode, ours, seed in modes:
            for stat in ("p50", "p99"):
                metric = f"start {stat}, {mode}, {label}"
                targeted = (store, mode, stat) == ("embedded", "sequential", "p99")
                target = START_P99_TARGET if targeted else None
                rows.append(Row(1, metric, "ms", getattr(ours, stat), getattr(seed, stat), target=target))
                causes[metric] = CAUSES["sequential"]
    notes = (
        f"{config.sequential_starts} sequential starts on one keep-alive connection after "
        f"{config.warmup_starts} warm-up starts, then {clients} concurrent connections x "
        f"{config.starts_per_client} starts each; tasks last {config.start_task_seconds:g} s.",
        "Time is measured at the client, over loopback HTTP straight to the agent process "
        "(no emulator in the path), so it is the agent's own answer time plus one local round trip.",
        "The 5 ms target applies to the sequential p99 on the embedded store.",
    )
    return FigureResult(1, "start_background_task response time", tuple(rows), notes, causes)
