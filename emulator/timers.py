"""When a microVM's session ends: the idle and max-lifetime rules as pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from emulator.config import Lifecycle


class EndReason(StrEnum):
    """Why a microVM was terminated."""

    IDLE = "idle"
    MAX_LIFETIME = "max_lifetime"
    STOPPED = "stopped"
    UNHEALTHY = "unhealthy"


@dataclass(frozen=True, kw_only=True)
class Activity:
    """What the timers look at, all moments on one monotonic clock (never the wall clock)."""

    started_at: float
    last_invocation_at: float
    status_changed_at: float | None
    busy: bool
    """The agent reports HealthyBusy with a time_of_last_update (see ``MicroVM.busy``)."""
    in_flight: int = 0


def last_activity(activity: Activity) -> float:
    """The moment the idle countdown started: start, last invocation or last status change."""
    moments = [activity.started_at, activity.last_invocation_at]
    if activity.status_changed_at is not None:
        moments.append(activity.status_changed_at)
    return max(moments)


def idle_seconds(now: float, activity: Activity) -> float:
    """How long the microVM has been idle; 0 while it is busy or serving a call."""
    if activity.busy or activity.in_flight > 0:
        return 0.0
    return max(0.0, now - last_activity(activity))


def due_end(now: float, lifecycle: Lifecycle, activity: Activity) -> EndReason | None:
    """The reason to terminate the microVM now, or None to keep it.

    Max lifetime is absolute from start and wins over everything. The idle timeout never
    fires while the agent is busy (HealthyBusy with a time_of_last_update) or a call is in flight.
    """
    if now - activity.started_at >= lifecycle.max_lifetime:
        return EndReason.MAX_LIFETIME
    if idle_seconds(now, activity) >= lifecycle.idle_timeout:
        return EndReason.IDLE
    return None
