"""The idle and max-lifetime rules, on a fake monotonic clock."""

from __future__ import annotations

import pytest

from emulator.config import Lifecycle
from emulator.timers import Activity, EndReason, due_end, idle_seconds

pytestmark = pytest.mark.unit

TIMERS = Lifecycle(idle_timeout=900, max_lifetime=28800)
START = 1_000_000.0


def activity(**changes: object) -> Activity:
    values: dict[str, object] = {
        "started_at": START,
        "last_invocation_at": START,
        "status_changed_at": None,
        "busy": False,
        "in_flight": 0,
    }
    values.update(changes)
    return Activity(**values)  # type: ignore[arg-type]


def test_fresh_idle_microvm_lives_until_the_idle_timeout() -> None:
    assert due_end(START + 899.9, TIMERS, activity()) is None
    assert due_end(START + 900, TIMERS, activity()) is EndReason.IDLE


def test_each_invocation_restarts_the_idle_countdown() -> None:
    seen = activity(last_invocation_at=START + 600)
    assert due_end(START + 1499, TIMERS, seen) is None
    assert due_end(START + 1500, TIMERS, seen) is EndReason.IDLE


def test_a_status_change_restarts_the_idle_countdown() -> None:
    # The 40-minute task of the seed's timeline: busy until 40:00, terminated at 55:00.
    finished = activity(status_changed_at=START + 2400)
    assert due_end(START + 3299, TIMERS, finished) is None
    assert due_end(START + 3300, TIMERS, finished) is EndReason.IDLE


def test_healthy_busy_never_idles() -> None:
    busy = activity(busy=True)
    assert due_end(START + 28799, TIMERS, busy) is None
    assert idle_seconds(START + 5000, busy) == 0.0


def test_a_call_in_flight_is_not_idle() -> None:
    serving = activity(in_flight=1)
    assert due_end(START + 5000, TIMERS, serving) is None


@pytest.mark.parametrize(
    "state", [activity(busy=True), activity(in_flight=3), activity(last_invocation_at=START + 28799)]
)
def test_max_lifetime_is_absolute(state: Activity) -> None:
    assert due_end(START + 28799.9, TIMERS, state) is None
    assert due_end(START + 28800, TIMERS, state) is EndReason.MAX_LIFETIME


def test_idle_seconds_counts_from_the_latest_activity() -> None:
    state = activity(last_invocation_at=START + 10, status_changed_at=START + 30)
    assert idle_seconds(START + 45, state) == 15.0
