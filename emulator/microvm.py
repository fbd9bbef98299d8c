"""The state of one emulated microVM and its row in the session table."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from emulator.process import AgentProcess
from emulator.timers import Activity, EndReason, idle_seconds

_numbers = itertools.count(1)


class VmState(StrEnum):
    """Where a microVM is in its life."""

    QUEUED = "queued"
    """Waiting for a start-up slot (``--max-booting``); no process yet."""
    STARTING = "starting"
    RUNNING = "running"
    TERMINATING = "terminating"
    ENDED = "ended"


@dataclass(eq=False)
class MicroVM:
    """One agent process serving one runtime session. Mutated only on the event loop.

    Moments ending in ``_at`` are monotonic seconds (durations are measured between them);
    ``_unix`` ones are wall-clock times, kept only to show in the session table.
    """

    runtime_arn: str
    session_id: str
    started_at: float
    started_at_unix: float
    number: int = field(default_factory=lambda: next(_numbers))
    state: VmState = VmState.QUEUED
    process: AgentProcess | None = None
    last_invocation_at: float = 0.0
    in_flight: int = 0
    invocations: int = 0
    ping_status: str | None = None
    update_time: float | None = None
    """The agent's last ``time_of_last_update``: its own unix seconds, compared only for change."""
    pinged_update_time: bool = False
    """Whether the last good ping carried ``time_of_last_update``."""
    status_changed_at: float | None = None
    """When a new ``update_time`` was first seen."""
    last_ping_at: float | None = None
    failed_pings: int = 0
    ended_at: float | None = None
    ended_at_unix: float | None = None
    end_reason: EndReason | None = None
    ready: asyncio.Future[None] | None = None
    stopped: asyncio.Event = field(default_factory=asyncio.Event)
    """Set by StopRuntimeSession: the calls in flight end at once."""
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    termination: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.last_invocation_at = self.started_at

    @property
    def key(self) -> tuple[str, str]:
        """The (runtime ARN, session id) this microVM serves."""
        return (self.runtime_arn, self.session_id)

    @property
    def busy(self) -> bool:
        """Whether the last ping keeps the session from idling: HealthyBusy *with* time_of_last_update.

        AgentCore's idle reaper fires on a bare ``{"status": "HealthyBusy"}`` all the same
        ("Runtime session lifecycle management" in the developer guide's runtime-long-run page;
        aws/bedrock-agentcore-sdk-python issue 471 and the ``PingStatus`` contract of its PR 517).
        """
        return self.ping_status == "HealthyBusy" and self.pinged_update_time

    def activity(self) -> Activity:
        """The timer inputs as of now."""
        return Activity(
            started_at=self.started_at,
            last_invocation_at=self.last_invocation_at,
            status_changed_at=self.status_changed_at,
            busy=self.busy,
            in_flight=self.in_flight,
        )

    def row(self, now: float) -> dict[str, Any]:
        """This microVM as a session-table row (JSON-ready); ``now`` is monotonic."""
        end = self.ended_at if self.ended_at is not None else now
        live = self.state in (VmState.QUEUED, VmState.STARTING, VmState.RUNNING)
        return {
            "session_id": self.session_id,
            "runtime_arn": self.runtime_arn,
            "microvm": self.number,
            "state": self.state.value,
            "pid": self.process.pid if self.process else None,
            "port": self.process.port if self.process else None,
            "disk": str(self.process.disk) if self.process else None,
            "started_at": round(self.started_at_unix, 3),
            "age_seconds": round(end - self.started_at, 3),
            "idle_seconds": round(idle_seconds(now, self.activity()), 3) if live else None,
            "invocations": self.invocations,
            "in_flight": self.in_flight,
            "ping_status": self.ping_status,
            "last_ping_seconds_ago": None if self.last_ping_at is None else round(now - self.last_ping_at, 3),
            "ended_at": None if self.ended_at_unix is None else round(self.ended_at_unix, 3),
            "end_reason": None if self.end_reason is None else self.end_reason.value,
        }
