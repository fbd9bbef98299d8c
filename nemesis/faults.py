"""The seeded fault schedule and what each fault does.

A schedule is a pure function of (seed, seconds, store): the same seed injects the same faults at
the same moments. Which process a fault hits is the session's microVM at that moment.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from nemesis.cluster import Cluster
from nemesis.history import Fault, History
from nemesis.proxy import Mode
from nemesis.services import StoreHandles
from nemesis.sink import Sink

PROCESS_FAULTS = ("kill-9", "freeze", "sigterm", "rollback")
ANNOUNCE_FAULTS = ("events-fail", "events-hang")
STORE_FAULTS = {
    "sqlite": ("poison",),
    "dynamodb": ("store-refuse", "store-hang", "store-slow", "store-error", "s3-refuse", "poison"),
    "redis": ("redis-refuse", "redis-hang", "redis-full", "poison"),
}
OUTAGE_SECONDS = (0.5, 14.0)
"""How long a store outage lasts: long enough, now and then, to span a microVM's shutdown."""


@dataclass(frozen=True)
class Planned:
    """One fault of the schedule: when, what, on which session, for how long."""

    at: float
    name: str
    session: int
    seconds: float


def schedule(seed: int, seconds: float, store: str, *, lease: float) -> list[Planned]:
    """A fault every 2-5 s for the first ``seconds``; a frozen process stays frozen past its lease."""
    rng = random.Random(seed)
    names = [*PROCESS_FAULTS, *PROCESS_FAULTS, *ANNOUNCE_FAULTS, *STORE_FAULTS[store]]
    plan = []
    at = rng.uniform(1.0, 3.0)
    while at < seconds:
        name = rng.choice(names)
        if name == "freeze":
            length = lease * rng.uniform(2.0, 6.0)
        elif name.startswith(("store-", "s3-", "redis-")):
            length = rng.uniform(*OUTAGE_SECONDS)
        else:
            length = rng.uniform(0.5, 4.0)
        plan.append(Planned(round(at, 3), name, rng.randrange(1 << 16), round(length, 3)))
        at += rng.uniform(2.0, 5.0)
    return plan


@dataclass
class Nemesis:
    """Applies planned faults to the cluster, the stand-in and the store proxies."""

    cluster: Cluster
    sink: Sink
    sessions: list[str]
    history: History
    clock: Callable[[], float]
    store: StoreHandles

    def apply(self, fault: Planned) -> Callable[[], None] | None:
        """Inject ``fault``; returns what ends it (None for one that is over at once)."""
        session = self.sessions[fault.session % len(self.sessions)]
        target = session
        heal: Callable[[], None] | None = None
        if fault.name in PROCESS_FAULTS:
            vm = self.cluster.current(session)
            if vm is None:
                return None  # no microVM to hit right now
            target = f"vm{vm.number}"
            if fault.name == "kill-9":
                self.cluster.kill(vm)
            elif fault.name == "sigterm":
                self.cluster.retire(vm)
            elif fault.name == "rollback":
                self.cluster.roll_back(vm)
            else:
                self.cluster.freeze(vm, fault.seconds)
        elif fault.name == "poison":
            target = f"{session} record {self.store.poison(session)}"
        elif fault.name == "redis-full":
            target = "redis"
            self.store.redis_full(True)
            heal = lambda: self.store.redis_full(False)  # noqa: E731
        elif fault.name in ANNOUNCE_FAULTS:
            target = "events+callbacks"
            self.sink.set_mode("fail" if fault.name == "events-fail" else "hang")
            heal = lambda: self.sink.set_mode("ok")  # noqa: E731
        else:
            where, how = fault.name.split("-", 1)
            proxy = self.store.proxies["s3" if where == "s3" else "store"]
            target = where
            modes: dict[str, Mode] = {"refuse": "refuse", "hang": "hang", "slow": "slow", "error": "error"}
            proxy.set_mode(modes[how])
            heal = lambda: proxy.set_mode("pass")  # noqa: E731
        self.history.add(Fault(self.clock(), fault.name, target, fault.seconds))
        return heal

    def heal_all(self) -> None:
        """End every fault that is still on."""
        self.cluster.end_rollbacks()
        self.sink.set_mode("ok")
        for proxy in self.store.proxies.values():
            proxy.set_mode("pass")
        if self.store.redis_port is not None:
            self.store.redis_full(False)
