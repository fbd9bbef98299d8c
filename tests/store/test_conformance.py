"""Every task store keeps the same rules: one suite, run on memory, SQLite, DynamoDB (moto server) and
Redis (a real redis-server), through the ``TaskStore`` Protocol only.

The rules, as the engine relies on them:
- ``create`` stores a record unless a live one has its id, and answers what is stored;
  a record that had expired when the new one was created is replaced.
- A record past its ``expires_at`` (still present until the store's own expiry removes it) is read
  by nobody: not ``get``, ``list``, ``unfinished`` nor ``announcing``.
- A beat applies only to the RUNNING record of its attempt, and never moves the expiry earlier.
- A transition replaces the whole record, only from the expected status and attempt.
- Clearing what a record owes changes that field only, only at the expected status and attempt.
- ``list`` is newest first by (created_at, task_id), keyset-paginated, per owner.
- A record this version cannot read is an ``UNREADABLE`` stand-in, never an error.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from typing import Any

import pytest

from agent.records import TaskRecord, TaskStatus
from agent.store.base import Beat, Cursor, TaskStore
from tests.support.task_stores import StoreBackend

HOUR = 3600


def _record(session_id: str | None = None, **changes: Any) -> TaskRecord:
    now = time.time()
    record = TaskRecord(
        session_id=session_id or f"session-{uuid.uuid4()}",
        task_id=str(uuid.uuid4()),
        status=TaskStatus.RUNNING,
        kind="sleep",
        input_json=json.dumps({"duration": 1}),
        created_at=now,
        updated_at=now,
        heartbeat_at=now,
        expires_at=int(now + HOUR),
        start_id=str(uuid.uuid4()),
    )
    return record.replace(**changes)


def _ids(records: list[TaskRecord]) -> list[str]:
    return [r.task_id for r in records]


@pytest.fixture
def store(store_backend: StoreBackend) -> TaskStore:
    return store_backend.store


# ---- create and idempotency ------------------------------------------------------------------


def test_a_record_reads_back_exactly_as_created(store: TaskStore) -> None:
    record = _record(
        status=TaskStatus.COMPLETED,
        progress=0.25,
        message="done",
        retention="durable",
        client_token="nightly",
        owner="alice",
        checkpoint='{"n":1}',
        result='{"ok":true}',
        result_format="json",
        result_size=11,
        callback_token="token-1",
        announce_pending=("event", "callback"),
    )
    assert store.create(record) == record
    assert store.get(record.session_id, record.task_id) == record


def test_a_create_retried_by_the_same_start_answers_the_stored_record(store: TaskStore) -> None:
    record = _record()
    store.create(record)
    assert store.create(record) == record
    assert store.get(record.session_id, record.task_id) == record


def test_a_live_record_is_never_replaced_by_another_create_of_its_id(store: TaskStore) -> None:
    first = store.create(_record())
    other = first.replace(start_id=str(uuid.uuid4()), input_json='{"duration":2}', created_at=time.time())
    assert store.create(other) == first
    assert store.get(first.session_id, first.task_id) == first


def test_a_record_expired_when_its_id_is_created_again_is_replaced(store: TaskStore) -> None:
    now = time.time()
    old = store.create(_record(status=TaskStatus.COMPLETED, created_at=now - 60, expires_at=int(now) - 5))
    new = old.replace(
        status=TaskStatus.RUNNING, start_id=str(uuid.uuid4()), created_at=now, expires_at=int(now + HOUR)
    )
    assert store.create(new) == new
    assert store.get(new.session_id, new.task_id) == new


# ---- expiry ----------------------------------------------------------------------------------


def _expired_and_live(store: TaskStore) -> tuple[list[TaskRecord], TaskRecord]:
    """Expired RUNNING, SUSPENDED and announcement-owing records, and one live record owing one."""
    now = time.time()
    session = f"session-{uuid.uuid4()}"
    expired = [
        store.create(
            _record(
                session, status=status, created_at=now - 60, expires_at=int(now) - 5, announce_pending=owed
            )
        )
        for status, owed in [
            (TaskStatus.RUNNING, ()),
            (TaskStatus.SUSPENDED, ()),
            (TaskStatus.COMPLETED, ("event",)),
        ]
    ]
    live = store.create(_record(session, status=TaskStatus.SUSPENDED, announce_pending=("event",)))
    return expired, live


def test_a_record_past_its_expiry_is_neither_got_nor_listed(store: TaskStore) -> None:
    expired, live = _expired_and_live(store)
    assert [store.get(r.session_id, r.task_id) for r in expired] == [None, None, None]
    assert _ids(store.list(live.session_id, 10, None, time.time())) == [live.task_id]


def test_a_record_past_its_expiry_is_neither_resumed_nor_announced(store: TaskStore) -> None:
    _, live = _expired_and_live(store)
    assert _ids(store.unfinished(live.session_id)) == [live.task_id]
    assert _ids(store.announcing(live.session_id)) == [live.task_id]
    assert _ids(store.open_records(live.session_id)) == [live.task_id]


def test_a_listing_counts_a_record_live_through_the_second_it_expires(store: TaskStore) -> None:
    now = time.time()
    record = store.create(_record(created_at=now - 60, expires_at=math.floor(now) + 60))
    at = float(record.expires_at)
    assert _ids(store.list(record.session_id, 10, None, at)) == [record.task_id]
    assert store.list(record.session_id, 10, None, at + 0.5) == []


# ---- beats -----------------------------------------------------------------------------------


def test_a_beat_writes_progress_message_heartbeat_and_checkpoint(store: TaskStore) -> None:
    record = store.create(_record(message="starting", checkpoint='{"n":0}'))
    at = time.time()
    with_checkpoint = Beat(0.5, "half", at, record.expires_at, checkpoint=('{"n":1}', None))
    assert store.beat(record.session_id, record.task_id, 1, with_checkpoint)
    assert store.get(record.session_id, record.task_id) == record.replace(
        progress=0.5, message="half", heartbeat_at=at, updated_at=at, checkpoint='{"n":1}'
    )
    later = at + 1
    assert store.beat(record.session_id, record.task_id, 1, Beat(0.75, None, later, record.expires_at))
    assert store.get(record.session_id, record.task_id) == record.replace(
        progress=0.75, message=None, heartbeat_at=later, updated_at=later, checkpoint='{"n":1}'
    )


def test_a_beat_never_moves_the_expiry_earlier(store: TaskStore) -> None:
    now = time.time()
    record = store.create(_record(expires_at=int(now + 2 * HOUR)))
    assert store.beat(record.session_id, record.task_id, 1, Beat(0.1, None, now, int(now + HOUR)))
    stored = store.get(record.session_id, record.task_id)
    assert stored is not None
    assert stored.expires_at == record.expires_at
    assert store.beat(record.session_id, record.task_id, 1, Beat(0.2, None, now + 1, int(now + 3 * HOUR)))
    stored = store.get(record.session_id, record.task_id)
    assert stored is not None
    assert stored.expires_at == int(now + 3 * HOUR)


def test_a_beat_of_another_attempt_or_of_a_record_not_running_is_refused(store: TaskStore) -> None:
    running = store.create(_record(attempt=2))
    suspended = store.create(_record(status=TaskStatus.SUSPENDED))
    beat = Beat(0.9, "late", time.time(), int(time.time() + 2 * HOUR))
    assert not store.beat(running.session_id, running.task_id, 1, beat)
    assert not store.beat(running.session_id, running.task_id, 3, beat)
    assert not store.beat(suspended.session_id, suspended.task_id, 1, beat)
    assert not store.beat(running.session_id, str(uuid.uuid4()), 2, beat)
    assert store.get(running.session_id, running.task_id) == running
    assert store.get(suspended.session_id, suspended.task_id) == suspended
    assert store.get(running.session_id, str(uuid.uuid4())) is None


# ---- transitions -----------------------------------------------------------------------------


def test_a_transition_replaces_the_record_only_from_the_expected_status_and_attempt(store: TaskStore) -> None:
    record = store.create(_record(attempt=2))
    done = record.replace(
        status=TaskStatus.COMPLETED, result="ok", progress=1.0, expires_at=int(time.time() + 60)
    )
    assert not store.transition(done, TaskStatus.SUSPENDED, 2)
    assert not store.transition(done, TaskStatus.RUNNING, 1)
    assert not store.transition(done.replace(task_id=str(uuid.uuid4())), TaskStatus.RUNNING, 2)
    assert store.get(record.session_id, record.task_id) == record
    assert store.transition(done, TaskStatus.RUNNING, 2)
    assert store.get(record.session_id, record.task_id) == done  # the final expiry as written
    assert not store.transition(done.replace(status=TaskStatus.FAILED), TaskStatus.RUNNING, 2)
    assert store.get(record.session_id, record.task_id) == done


def test_a_transition_fenced_on_a_heartbeat_needs_that_heartbeat(store: TaskStore) -> None:
    record = store.create(_record(heartbeat_at=time.time() - 30))
    lost = record.replace(status=TaskStatus.LOST)
    assert not store.transition(lost, TaskStatus.RUNNING, 1, beat_at=record.heartbeat_at + 1)
    assert store.transition(lost, TaskStatus.RUNNING, 1, beat_at=record.heartbeat_at)
    assert store.get(record.session_id, record.task_id) == lost


# ---- clearing what a record owes -------------------------------------------------------------


def test_clearing_what_a_record_owes_changes_that_field_only_and_only_at_its_status_and_attempt(
    store: TaskStore,
) -> None:
    session = f"session-{uuid.uuid4()}"
    record = store.create(
        _record(
            session,
            status=TaskStatus.SUSPENDED,
            announce_pending=("event",),
            heartbeat_at=time.time() - 12.345678,
            progress=0.123456789,
            checkpoint='{"done":3}',
        )
    )
    assert not store.clear_announced(session, record.task_id, TaskStatus.RUNNING, 1)
    assert not store.clear_announced(session, record.task_id, TaskStatus.SUSPENDED, 2)
    assert not store.clear_announced(session, str(uuid.uuid4()), TaskStatus.SUSPENDED, 1)
    assert store.get(session, record.task_id) == record
    assert store.clear_announced(session, record.task_id, TaskStatus.SUSPENDED, 1)
    assert store.get(session, record.task_id) == record.replace(announce_pending=())
    assert store.announcing(session) == []
    assert _ids(store.unfinished(session)) == [record.task_id]


def test_a_cleared_record_moves_on_and_owes_what_its_next_state_owes(store: TaskStore) -> None:
    session = f"session-{uuid.uuid4()}"
    record = store.create(_record(session, status=TaskStatus.SUSPENDED, announce_pending=("event",)))
    assert store.clear_announced(session, record.task_id, TaskStatus.SUSPENDED, 1)
    resumed = record.replace(status=TaskStatus.RUNNING, attempt=2, announce_pending=())
    assert store.transition(resumed, TaskStatus.SUSPENDED, 1)
    assert not store.clear_announced(session, record.task_id, TaskStatus.SUSPENDED, 1)  # moved on
    assert store.get(session, record.task_id) == resumed
    done = resumed.replace(status=TaskStatus.COMPLETED, result="ok", announce_pending=("event", "callback"))
    assert store.transition(done, TaskStatus.RUNNING, 2)
    assert store.get(session, record.task_id) == done
    assert _ids(store.open_records(session)) == [record.task_id]
    assert store.clear_announced(session, record.task_id, TaskStatus.COMPLETED, 2)
    assert store.get(session, record.task_id) == done.replace(announce_pending=())
    assert store.open_records(session) == []


# ---- listing ---------------------------------------------------------------------------------


def test_a_listing_is_newest_first_and_pages_by_cursor(store: TaskStore) -> None:
    session = f"session-{uuid.uuid4()}"
    base = time.time() - 100
    created = [base, base + 1, base + 1, base + 1, base + 2, base + 3]  # ties break on task_id
    records = [store.create(_record(session, created_at=at)) for at in created]
    store.create(_record())  # another session's
    newest_first = sorted(records, key=lambda r: (r.created_at, r.task_id), reverse=True)
    pages: list[list[TaskRecord]] = []
    cursor: Cursor | None = None
    while page := store.list(session, 2, cursor, time.time()):
        pages.append(page)
        cursor = Cursor.after(page[-1])
    assert [len(p) for p in pages] == [2, 2, 2]
    assert [r for p in pages for r in p] == newest_first


def test_a_listing_shows_only_the_callers_records_and_still_fills_its_page(store: TaskStore) -> None:
    session = f"session-{uuid.uuid4()}"
    base = time.time() - 100
    alice = [store.create(_record(session, owner="alice", created_at=base + i)) for i in range(2)]
    nobody = store.create(_record(session, created_at=base + 2))
    for i in range(3):  # newer than alice's: her page must reach past them
        store.create(_record(session, owner="bob", created_at=base + 3 + i))
    assert store.list(session, 2, None, time.time(), owner="alice") == alice[::-1]
    assert store.list(session, 10, None, time.time()) == [nobody]


def test_a_listing_skips_expired_records_and_still_fills_its_page(store: TaskStore) -> None:
    session = f"session-{uuid.uuid4()}"
    now = time.time()
    live = []
    for i in range(6):
        expires = int(now) - 5 if i % 2 else int(now + HOUR)
        record = store.create(_record(session, created_at=now - 100 + i, expires_at=expires))
        if i % 2 == 0:
            live.append(record)
    page = store.list(session, 2, None, now)
    assert page == live[::-1][:2]
    assert store.list(session, 2, Cursor.after(page[-1]), now) == live[:1]


# ---- what a new process resumes and announces -----------------------------------------------


def test_unfinished_is_the_running_and_suspended_records_of_the_session(store: TaskStore) -> None:
    session = f"session-{uuid.uuid4()}"
    records = {
        status: store.create(_record(session, status=status))
        for status in TaskStatus
        if status.value != "UNREADABLE"
    }
    store.create(_record(status=TaskStatus.SUSPENDED))  # another session's
    expected = {records[TaskStatus.RUNNING].task_id, records[TaskStatus.SUSPENDED].task_id}
    assert set(_ids(store.unfinished(session))) == expected


def test_announcing_is_the_records_of_the_session_owing_an_announcement(store: TaskStore) -> None:
    session = f"session-{uuid.uuid4()}"
    owing = [
        store.create(_record(session, status=TaskStatus.COMPLETED, announce_pending=("event", "callback"))),
        store.create(_record(session, status=TaskStatus.SUSPENDED, announce_pending=("event",))),
    ]
    store.create(_record(session, status=TaskStatus.FAILED))
    store.create(_record(status=TaskStatus.COMPLETED, announce_pending=("event",)))  # another session's
    assert sorted(store.announcing(session), key=lambda r: r.task_id) == sorted(
        owing, key=lambda r: r.task_id
    )


# ---- unreadable records ----------------------------------------------------------------------


def test_a_record_this_version_cannot_read_is_an_unreadable_stand_in(store_backend: StoreBackend) -> None:
    store = store_backend.store
    session = f"session-{uuid.uuid4()}"
    now = time.time()
    good = store.create(_record(session, status=TaskStatus.SUSPENDED, created_at=now - 30))
    newer = _record(session, owner=None, created_at=now - 20).to_item() | {"status": "PAUSED"}
    mistyped = _record(session, status=TaskStatus.SUSPENDED, created_at=now - 10).to_item() | {
        "attempt": "two"
    }
    store_backend.plant(newer)
    store_backend.plant(mistyped)

    for item in (newer, mistyped):
        stand_in = store.get(session, item["task_id"])
        assert stand_in is not None
        assert (stand_in.status, stand_in.task_id, stand_in.created_at) == (
            TaskStatus.UNREADABLE,
            item["task_id"],
            item["created_at"],
        )
    listed = store.list(session, 10, None, time.time())
    assert [(r.task_id, r.status) for r in listed] == [
        (mistyped["task_id"], TaskStatus.UNREADABLE),
        (newer["task_id"], TaskStatus.UNREADABLE),
        (good.task_id, TaskStatus.SUSPENDED),
    ]
    # Stored as SUSPENDED, so a new process finds it among the unfinished (and leaves it alone).
    unfinished = {r.task_id: r.status for r in store.unfinished(session)}
    assert unfinished == {good.task_id: TaskStatus.SUSPENDED, mistyped["task_id"]: TaskStatus.UNREADABLE}
    # Its id stays taken: a create answers the stand-in and writes nothing.
    again = _record(session, task_id=mistyped["task_id"])
    assert store.create(again).status is TaskStatus.UNREADABLE
    stand_in = store.get(session, mistyped["task_id"])
    assert stand_in is not None
    assert stand_in.status is TaskStatus.UNREADABLE


def test_open_records_are_the_unfinished_and_the_owing_each_once(store: TaskStore) -> None:
    session = f"session-{uuid.uuid4()}"
    expected = [
        store.create(_record(session)),
        store.create(_record(session, status=TaskStatus.SUSPENDED, announce_pending=("event",))),
        store.create(_record(session, status=TaskStatus.COMPLETED, announce_pending=("event",))),
    ]
    store.create(_record(session, status=TaskStatus.FAILED))
    store.create(_record(status=TaskStatus.RUNNING))  # another session's
    assert sorted(_ids(store.open_records(session))) == sorted(_ids(expected))
    union = {r.task_id for r in [*store.unfinished(session), *store.announcing(session)]}
    assert set(_ids(store.open_records(session))) == union
