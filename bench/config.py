"""How big each benchmark is. Durations and intervals are scaled down so the run stays short."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from agentcore_async.contract import PRESET_NAMES, PresetName

NOTICE_SCALE = 30
"""Figure 3 runs this many times faster than real time: the seed's 600 s task polled every 60 s
becomes a 20 s task polled every 2 s, and our 60 s long-poll (the API's maximum) a 2 s one."""

BILLING_SCALE = 60
"""Figure 8 runs this many times faster than real time: a 60 s task takes 1 s, the seed's 60 s
poll 1 s, and each preset's idle timeout a sixtieth (``long-running``: 1,800 s becomes 30 s)."""


@dataclass(frozen=True)
class BenchConfig:
    """Counts, durations and intervals of one run."""

    cores: int
    # figure 1: start_background_task latency
    warmup_starts: int = 20
    sequential_starts: int = 500
    concurrent_clients: int = 50
    starts_per_client: int = 10
    start_task_seconds: float = 1.0
    # figure 2 and 5: /ping under load, memory
    ping_samples: int = 500
    ping_spacing_seconds: float = 0.003
    task_counts: tuple[int, ...] = (0, 100, 1000)
    parked_task_seconds: float = 120.0
    cpu_task_seconds: float = 8.0
    # figure 3: completion notice
    notice_task_seconds: float = 600.0 / NOTICE_SCALE
    notice_tasks: int = 6
    latency_matched_tasks: int = 3
    seed_poll_seconds: float = 60.0 / NOTICE_SCALE
    long_poll_seconds: int = 60 // NOTICE_SCALE
    # figure 4: throughput through the emulator
    session_counts: tuple[int, ...] = (1, 5, 20)
    throughput_task_seconds: float = 0.5
    tasks_in_flight_per_session: int = 2
    throughput_window_seconds: float = 8.0
    # figure 7: a task three times the max lifetime
    outlive_lifetime_seconds: float = 8.0
    # figure 8: billed microVM-seconds per completed task
    billing_presets: tuple[PresetName, ...] = PRESET_NAMES
    billing_task_seconds: float = 60.0 / BILLING_SCALE
    billing_seed_poll_seconds: float = 60.0 / BILLING_SCALE
    billing_long_poll_seconds: int = 5
    billing_sessions: int = 2
    # figure 10: the first invocation of a new microVM in a long session
    resume_finished: int = 10_000
    resume_suspended: int = 10
    resume_rounds: int = 5

    @property
    def cpu_tasks(self) -> int:
        """Twice the core count, as the issue asks."""
        return 2 * self.cores

    def quick(self) -> BenchConfig:
        """A much smaller run for smoke tests of the harness (numbers are not meaningful)."""
        return replace(
            self,
            warmup_starts=2,
            sequential_starts=20,
            concurrent_clients=5,
            starts_per_client=2,
            ping_samples=20,
            task_counts=(0, 10),
            cpu_task_seconds=2.0,
            notice_task_seconds=2.0,
            notice_tasks=2,
            latency_matched_tasks=1,
            seed_poll_seconds=1.0,
            long_poll_seconds=1,
            session_counts=(1, 2),
            throughput_window_seconds=2.0,
            outlive_lifetime_seconds=4.0,
            billing_presets=("development",),
            billing_sessions=1,
            resume_finished=50,
            resume_suspended=2,
            resume_rounds=1,
        )


def default_config() -> BenchConfig:
    """The configuration ``make bench`` runs, sized to this machine."""
    return BenchConfig(cores=os.cpu_count() or 1)
