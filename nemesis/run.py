"""One nemesis run: start, drive under faults, heal, check, stop everything, report."""

from __future__ import annotations

import random
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agentcore_async.contract import EnvVar
from bench.environment import AWS_ENV
from nemesis.cluster import Cluster
from nemesis.faults import Nemesis, Planned, schedule
from nemesis.history import History, read_item_runs
from nemesis.invariants import Violation, check
from nemesis.kind import COUNTS_ENV
from nemesis.services import store_services
from nemesis.sink import running_sink
from nemesis.workload import Client, settled

HEARTBEAT_SECONDS = 0.25
LEASE_SECONDS = 1.5
LIFETIME_SECONDS = 8.0
"""Each microVM's maximum lifetime: the longer tasks span two or three."""
SESSIONS = 3
CLIENTS = 4
HEAL_SECONDS = 90.0
"""How long the heal phase drives unfinished tasks before it gives up on them."""
SETTLE_SECONDS = 2.0
"""After the heal phase: time for the last announcements to arrive."""


@dataclass(frozen=True)
class Outcome:
    """What a run found."""

    seed: int
    tasks: int
    faults: int
    violations: list[Violation]
    workdir: Path

    def summary(self) -> str:
        """The run's last line."""
        return (
            f"nemesis: seed {self.seed}, {self.tasks} tasks, {self.faults} faults, "
            f"{len(self.violations)} violations"
        )


def run(
    seed: int, seconds: float, store: str, *, keep: Path | None = None, agent_module: str = "agent"
) -> Outcome:
    """Run the nemesis for ``seconds`` of faults on ``store``, then heal and check."""
    workdir = Path(tempfile.mkdtemp(prefix="nemesis-")) if keep is None else keep
    workdir.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()

    def clock() -> float:
        return round(time.monotonic() - began, 3)

    history = History(seed=seed)
    rng = random.Random(seed)
    sessions = [f"nemesis-{seed:08x}-{i}-{uuid.UUID(int=rng.getrandbits(128)).hex}" for i in range(SESSIONS)]
    with running_sink(history.add, clock) as sink, store_services(store, workdir) as handles:
        env = {
            **AWS_ENV,
            **handles.env,
            EnvVar.HEARTBEAT_SECONDS: str(HEARTBEAT_SECONDS),
            EnvVar.LEASE_SECONDS: str(LEASE_SECONDS),
            EnvVar.RETRY_BASE_SECONDS: "0.05",
            EnvVar.MAX_ATTEMPTS: "200",
            EnvVar.EXTRA_KINDS: "nemesis.kind",
            EnvVar.EVENT_BUS_NAME: "nemesis",
            "AWS_ENDPOINT_URL_EVENTBRIDGE": sink.url,
            "AWS_ENDPOINT_URL_SFN": sink.url,
            COUNTS_ENV: str(workdir / "items.log"),
        }
        cluster = Cluster(env, workdir, history, clock, LIFETIME_SECONDS, agent_module)
        nemesis = Nemesis(cluster, sink, sessions, history, clock, handles)
        cluster.start()
        try:
            clients = [
                Client(
                    name=f"c{i}",
                    cluster=cluster,
                    sessions=sessions,
                    rng=random.Random(rng.getrandbits(64)),
                    pad_bytes=1024 if store == "dynamodb" else 0,
                    ephemeral=store == "redis",
                )
                for i in range(CLIENTS)
            ]
            _drive(clients, nemesis, schedule(seed, seconds, store, lease=LEASE_SECONDS), seconds)
            history.heal_started = clock()
            nemesis.heal_all()
            _heal(clients[0], history)
            time.sleep(SETTLE_SECONDS)
        finally:
            cluster.close()
    history.item_runs = read_item_runs(workdir / "items.log")
    history.write(workdir / "history.jsonl")
    violations = check(history)
    tasks = len(
        {
            c.answer["task_id"]
            for c in history.calls
            if c.action == "start_task" and c.answer and "task_id" in c.answer
        }
    )
    outcome = Outcome(seed, tasks, len(history.faults), violations, workdir)
    if not violations and keep is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return outcome


def _drive(clients: list[Client], nemesis: Nemesis, plan: list[Planned], seconds: float) -> None:
    stop = threading.Event()
    threads = [
        threading.Thread(target=c.run, args=(stop,), name=f"nemesis-{c.name}", daemon=True) for c in clients
    ]
    for thread in threads:
        thread.start()
    heals: list[tuple[float, Callable[[], None]]] = []
    began = time.monotonic()
    try:
        for fault in plan:
            _sleep_until(began + fault.at, heals, began)
            if (heal := nemesis.apply(fault)) is not None:
                heals.append((fault.at + fault.seconds, heal))
        _sleep_until(began + seconds, heals, began)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        for _, heal in heals:
            heal()


def _sleep_until(deadline: float, heals: list[tuple[float, Callable[[], None]]], began: float) -> None:
    while (now := time.monotonic()) < deadline:
        due = [h for h in heals if began + h[0] <= now]
        for entry in due:
            heals.remove(entry)
            entry[1]()
        time.sleep(min(0.05, deadline - now))


def _heal(client: Client, history: History) -> None:
    """Drive every started task to an end: long-poll each until it settles, then list every page."""
    tasks = {
        (c.session, c.answer["task_id"])
        for c in list(history.calls)
        if c.action == "start_task" and c.answer and isinstance(c.answer.get("task_id"), str)
    }
    deadline = time.monotonic() + HEAL_SECONDS
    open_tasks = sorted(tasks)
    while open_tasks and time.monotonic() < deadline:
        still = []
        for session, task_id in open_tasks:
            if not settled(client.get(session, task_id, 2)):
                still.append((session, task_id))
        open_tasks = still
    for session in sorted({s for s, _ in tasks}):
        client.list_all(session, limit=50, pages=20)
