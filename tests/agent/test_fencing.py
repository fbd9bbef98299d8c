"""At most one process ever runs a task: resuming takes the next attempt with a conditional write, and
every write of an older attempt is rejected. Checked on each store against its real server."""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from agent.records import TaskRecord, TaskStatus
from agent.store.base import Beat, TaskStore
from tests.support.task_stores import StoreBackend

CONTENDERS = 8


@pytest.fixture
def store(store_backend: StoreBackend) -> TaskStore:
    return store_backend.store


def _suspended() -> TaskRecord:
    now = time.time()
    return TaskRecord(
        session_id=f"session-{uuid.uuid4()}",
        task_id=str(uuid.uuid4()),
        status=TaskStatus.SUSPENDED,
        kind="batch",
        input_json=json.dumps({"instruction": "upper", "items": ["a", "b"]}),
        created_at=now,
        updated_at=now,
        heartbeat_at=now,
        expires_at=int(now + 3600),
        attempt=1,
        checkpoint=json.dumps({"outputs": ["A"]}),
    )


def _beat(now: float) -> Beat:
    return Beat(progress=0.5, message="half", at=now, expires_at=int(now + 3600))


def test_exactly_one_contender_resumes_and_older_attempts_are_fenced_off(store: TaskStore) -> None:
    suspended = store.create(_suspended())
    barrier = threading.Barrier(CONTENDERS)

    def resume(contender: int) -> bool:
        resumed = suspended.replace(
            status=TaskStatus.RUNNING, attempt=2, message=f"contender {contender}", updated_at=time.time()
        )
        barrier.wait()
        return store.transition(resumed, TaskStatus.SUSPENDED, 1)

    with ThreadPoolExecutor(max_workers=CONTENDERS) as pool:
        won = list(pool.map(resume, range(CONTENDERS)))
    assert won.count(True) == 1, won
    stored = store.get(suspended.session_id, suspended.task_id)
    assert stored is not None
    assert (stored.status, stored.attempt) == (TaskStatus.RUNNING, 2)
    assert stored.message == f"contender {won.index(True)}"
    assert stored.checkpoint == suspended.checkpoint  # resumed with the last checkpoint

    # The first attempt, still alive somewhere, can no longer write anything.
    now = time.time()
    assert not store.beat(suspended.session_id, suspended.task_id, 1, _beat(now))
    late = suspended.replace(status=TaskStatus.COMPLETED, result="stale", attempt=1)
    assert not store.transition(late, TaskStatus.RUNNING, 1)
    assert not store.transition(late, TaskStatus.SUSPENDED, 1)

    # The winner can.
    assert store.beat(suspended.session_id, suspended.task_id, 2, _beat(now))
    done = stored.replace(status=TaskStatus.COMPLETED, result='["A","B"]', result_format="json")
    assert store.transition(done, TaskStatus.RUNNING, 2)
    final = store.get(suspended.session_id, suspended.task_id)
    assert final is not None
    assert (final.status, final.attempt, final.result) == (TaskStatus.COMPLETED, 2, '["A","B"]')
    # A final state never changes, whatever attempt asks.
    assert not store.transition(late.replace(attempt=2), TaskStatus.RUNNING, 2)


def test_a_checkpoint_beat_is_kept_and_only_for_the_running_attempt(store: TaskStore) -> None:
    running = store.create(_suspended().replace(status=TaskStatus.RUNNING))
    now = time.time()
    beat = Beat(
        progress=0.75, message="3 of 4", at=now, expires_at=int(now + 7200), checkpoint=('{"n":3}', None)
    )
    assert store.beat(running.session_id, running.task_id, 1, beat)
    stored = store.get(running.session_id, running.task_id)
    assert stored is not None
    assert (stored.progress, stored.message, stored.checkpoint) == (0.75, "3 of 4", '{"n":3}')
    assert stored.heartbeat_at == pytest.approx(now)
    assert not store.beat(running.session_id, running.task_id, 2, beat)


def test_a_settle_fenced_on_a_stale_heartbeat_loses_to_the_checkpoint_written_since(store: TaskStore) -> None:
    """A reader that saw the lease run out settles only the record it read: the live attempt's
    later checkpoint (a beat) makes that write fail, and a fresh read's settle goes through."""
    now = time.time()
    read = store.create(_suspended().replace(status=TaskStatus.RUNNING, heartbeat_at=now - 30))
    later = Beat(
        progress=0.75, message="3 of 4", at=now, expires_at=int(now + 3600), checkpoint=('{"n":3}', None)
    )
    assert store.beat(read.session_id, read.task_id, 1, later)
    stale = read.replace(status=TaskStatus.SUSPENDED, updated_at=now)
    assert not store.transition(stale, TaskStatus.RUNNING, 1, beat_at=read.heartbeat_at)
    current = store.get(read.session_id, read.task_id)
    assert current is not None
    assert (current.status, current.checkpoint, current.heartbeat_at) == (TaskStatus.RUNNING, '{"n":3}', now)
    settled = current.replace(status=TaskStatus.SUSPENDED, updated_at=time.time())
    assert store.transition(settled, TaskStatus.RUNNING, 1, beat_at=current.heartbeat_at)
    assert store.get(read.session_id, read.task_id) == settled
