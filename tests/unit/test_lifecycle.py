"""The life cycle's rules on a fake clock: lease, settle, resume and expiry decisions, and the
fences of the transition table, without a store or a sleep."""

from __future__ import annotations

import pytest

from agent import lifecycle
from agent.lifecycle import Actor
from agent.records import TaskRecord, TaskStatus
from agent.settings import load_settings
from tests.unit.conftest import UNIT_ENV

pytestmark = pytest.mark.unit

SETTINGS = load_settings(
    {
        **UNIT_ENV,
        "AGENT_LEASE_SECONDS": "60",
        "AGENT_HEARTBEAT_SECONDS": "10",
        "AGENT_MAX_ATTEMPTS": "3",
        "AGENT_RESULT_TTL_SECONDS": "86400",
        "AGENT_EPHEMERAL_TTL_SECONDS": "600",
    }
)
T0 = 1_800_000_000.0


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: float = T0) -> None:
        self.wall = now

    def now(self) -> float:
        return self.wall

    def monotonic(self) -> float:
        return self.wall - T0

    def advance(self, seconds: float) -> None:
        self.wall += seconds


def running(clock: FakeClock, **changes: object) -> TaskRecord:
    now = clock.now()
    record = TaskRecord(
        session_id="s",
        task_id="t",
        status=TaskStatus.RUNNING,
        kind="sleep",
        input_json="{}",
        created_at=now,
        updated_at=now,
        heartbeat_at=now,
        expires_at=lifecycle.running_expiry(now, "durable", SETTINGS),
        checkpoint='{"step": 3}',
    )
    return record.replace(**changes)


def test_a_heartbeat_within_the_lease_reads_running() -> None:
    clock = FakeClock()
    record = running(clock)
    clock.advance(60)
    assert lifecycle.status_of(record, clock.now(), SETTINGS, resumable=True) is TaskStatus.RUNNING
    assert lifecycle.settlement(record, clock.now(), SETTINGS, resumable=True) is None


@pytest.mark.parametrize(
    ("resumable", "status"),
    [(True, TaskStatus.SUSPENDED), (False, TaskStatus.LOST), (None, TaskStatus.SUSPENDED)],
    ids=["resumable kind", "known kind that does not resume", "kind unknown to this image"],
)
def test_a_heartbeat_older_than_the_lease_reads(resumable: bool | None, status: TaskStatus) -> None:
    clock = FakeClock()
    record = running(clock)
    clock.advance(60.5)
    assert lifecycle.status_of(record, clock.now(), SETTINGS, resumable) is status
    settled = lifecycle.settlement(record, clock.now(), SETTINGS, resumable)
    assert settled is not None and settled.status is status
    assert settled.updated_at == clock.now()
    assert settled.expires_at == int(clock.now() + SETTINGS.result_ttl_seconds)


def test_a_settled_suspension_keeps_its_checkpoint_and_a_lost_task_says_why() -> None:
    clock = FakeClock()
    record = running(clock)
    clock.advance(61)
    suspended = lifecycle.settlement(record, clock.now(), SETTINGS, resumable=True)
    lost = lifecycle.settlement(record, clock.now(), SETTINGS, resumable=False)
    assert suspended is not None and suspended.checkpoint == '{"step": 3}'
    assert suspended.error_code is None
    assert lost is not None and lost.checkpoint is None
    assert (lost.error_code, lost.error_message) == ("TaskLost", lifecycle.LOST_MESSAGE)


def test_an_attempt_of_this_process_is_never_settled_by_its_own_reads() -> None:
    clock = FakeClock()
    record = running(clock)
    clock.advance(600)
    assert lifecycle.status_of(record, clock.now(), SETTINGS, True, ours=True) is TaskStatus.RUNNING
    assert lifecycle.settlement(record, clock.now(), SETTINGS, True, ours=True) is None


def test_a_settle_is_fenced_on_the_heartbeat_it_read() -> None:
    clock = FakeClock()
    record = running(clock, attempt=2)
    clock.advance(61)
    settled = lifecycle.settlement(record, clock.now(), SETTINGS, resumable=True)
    assert settled is not None
    write = lifecycle.change(Actor.SETTLE, record, settled)
    assert (write.expected, write.attempt, write.beat_at) == (TaskStatus.RUNNING, 2, record.heartbeat_at)


def test_only_a_settle_fences_on_the_heartbeat() -> None:
    clock = FakeClock()
    record = running(clock)
    done = lifecycle.ended(record, TaskStatus.COMPLETED, None, None, clock.now())
    write = lifecycle.change(Actor.ATTEMPT, record, done)
    assert (write.expected, write.attempt, write.beat_at) == (TaskStatus.RUNNING, 1, None)


def test_a_resume_below_max_attempts_runs_the_next_attempt() -> None:
    clock = FakeClock()
    suspended = running(clock, status=TaskStatus.SUSPENDED, attempt=2)
    clock.advance(5)
    resumed = lifecycle.resumption(suspended, clock.now(), SETTINGS, resumable=True)
    assert resumed is not None
    assert (resumed.status, resumed.attempt) == (TaskStatus.RUNNING, 3)
    assert resumed.heartbeat_at == clock.now()
    assert resumed.checkpoint == '{"step": 3}'
    assert resumed.expires_at == int(clock.now() + 60 + SETTINGS.result_ttl_seconds)
    write = lifecycle.change(Actor.RESUME, suspended, resumed)
    assert (write.expected, write.attempt) == (TaskStatus.SUSPENDED, 2)


def test_a_resume_at_max_attempts_fails_with_resume_limit() -> None:
    clock = FakeClock()
    suspended = running(clock, status=TaskStatus.SUSPENDED, attempt=3)
    final = lifecycle.resumption(suspended, clock.now(), SETTINGS, resumable=True)
    assert final is not None
    assert (final.status, final.error_code, final.attempt) == (TaskStatus.FAILED, "ResumeLimit", 3)
    assert final.expires_at == int(clock.now() + SETTINGS.result_ttl_seconds)


def test_a_suspended_kind_that_does_not_resume_is_lost_and_an_unknown_kind_is_left_alone() -> None:
    clock = FakeClock()
    suspended = running(clock, status=TaskStatus.SUSPENDED)
    lost = lifecycle.resumption(suspended, clock.now(), SETTINGS, resumable=False)
    assert lost is not None and (lost.status, lost.error_code) == (TaskStatus.LOST, "TaskLost")
    assert lifecycle.resumption(suspended, clock.now(), SETTINGS, resumable=None) is None


def test_only_a_suspended_record_is_resumed() -> None:
    clock = FakeClock()
    for status in (TaskStatus.RUNNING, TaskStatus.COMPLETED, TaskStatus.CANCELLED):
        assert lifecycle.resumption(running(clock, status=status), clock.now(), SETTINGS, True) is None


def test_an_unconfirmed_start_waits_for_adoption_until_one_heartbeat_before_its_lease_ends() -> None:
    clock = FakeClock()
    record = running(clock)
    assert lifecycle.adoption_deadline(record, SETTINGS) == clock.now() + 60 - 10


def test_ephemeral_records_expire_on_their_own_ttl() -> None:
    now = T0
    assert lifecycle.running_expiry(now, "ephemeral", SETTINGS) == int(now + 60 + 600)
    assert lifecycle.final_expiry(now, "ephemeral", SETTINGS) == int(now + 600)
    assert lifecycle.final_expiry(now, "durable", SETTINGS) == int(now + 86400)


@pytest.mark.parametrize(
    ("by", "before", "after"),
    [
        (Actor.SETTLE, TaskStatus.SUSPENDED, TaskStatus.LOST),
        (Actor.SETTLE, TaskStatus.RUNNING, TaskStatus.COMPLETED),
        (Actor.RESUME, TaskStatus.RUNNING, TaskStatus.RUNNING),
        (Actor.CANCEL, TaskStatus.COMPLETED, TaskStatus.CANCELLED),
        (Actor.ATTEMPT, TaskStatus.LOST, TaskStatus.COMPLETED),
        (Actor.CLOSE_START, TaskStatus.SUSPENDED, TaskStatus.FAILED),
    ],
)
def test_the_table_refuses_changes_nobody_may_make(by: Actor, before: TaskStatus, after: TaskStatus) -> None:
    clock = FakeClock()
    with pytest.raises(ValueError, match="may not change"):
        lifecycle.change(by, running(clock, status=before), running(clock, status=after))


def test_no_final_status_ever_changes() -> None:
    finals = {status for status in TaskStatus if status.finished}
    for rows in lifecycle.TRANSITIONS.values():
        assert not finals & rows.keys()
