"""Marking an announcement sent never undoes a later state change, even where a store checks a
write's condition and applies it in separate steps.

moto in server mode is such a store: it serves each request on its own thread and a conditional
``PutItem`` reads the item, evaluates the condition and stores the new item with nothing in
between held, so two writes fenced on the same (status, attempt) can both pass. (DynamoDB itself
applies a conditional write atomically.) Nemesis seed 3 (120 s) met this: a reader settled a task
SUSPENDED at attempt 1 and at once resumed it (attempt 2), while the outbox marked the SUSPENDED
event sent with a put of the whole SUSPENDED record fenced on (SUSPENDED, 1). Both passed; the
outbox's landed last, so the stored record went back to SUSPENDED at attempt 1 after the resume had
been acknowledged; attempt 2 ran, found itself superseded, and the same process resumed the
restored record as attempt 2 again: one item ran twice in one attempt.

Here the outbox's write is held inside moto between its read and its write (as a loaded moto did)
while the resume lands, so the interleaving is the same every run.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto.dynamodb.models.table import Table

from agent.announce.announcer import Announcer
from agent.announce.outbox import Outbox
from agent.records import TaskRecord, TaskStatus
from agent.store.base import TaskStore
from tests.support.task_stores import StoreBackend, open_backend

HOUR = 3600


class Events:
    """Records each event published (the bus the outbox sends to)."""

    def __init__(self) -> None:
        self.published: list[tuple[str, int, str]] = []

    def publish(self, record: TaskRecord) -> None:
        self.published.append((record.task_id, record.attempt, record.status.value))

    def close(self) -> None:
        pass


class HeldRead:
    """While armed, the next request that reads an item in moto stops right after its read
    (before its condition is evaluated and anything is stored) until released."""

    def __init__(self) -> None:
        self.armed = threading.Event()
        self.holding = threading.Event()
        self.released = threading.Event()

    def wrap(self, read: Callable[..., Any]) -> Callable[..., Any]:
        def get_item(table: Table, *args: Any, **kwargs: Any) -> Any:
            item = read(table, *args, **kwargs)
            if self.armed.is_set():
                self.armed.clear()
                self.holding.set()
                assert self.released.wait(30), "the held request was never released"
            return item

        return get_item


@pytest.fixture
def dynamodb(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[StoreBackend]:
    with open_backend("dynamodb", request, tmp_path) as backend:
        yield backend


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldRead]:
    """moto runs in this process (``ThreadedMotoServer``): its item reads can be held."""
    hold = HeldRead()
    monkeypatch.setattr(Table, "get_item", hold.wrap(Table.get_item))
    yield hold
    hold.released.set()


def _suspended(store: TaskStore, outbox: Outbox) -> TaskRecord:
    """A RUNNING attempt 1 settled SUSPENDED the way a reader does: with the event it owes."""
    now = time.time()
    running = TaskRecord(
        session_id=f"session-{uuid.uuid4()}",
        task_id=str(uuid.uuid4()),
        status=TaskStatus.RUNNING,
        kind="tally",
        input_json="{}",
        created_at=now - 120,
        updated_at=now - 90,
        heartbeat_at=now - 90,
        expires_at=int(now + HOUR),
        checkpoint='{"done":1}',
    )
    store.create(running)
    suspended = outbox.owe(running.replace(status=TaskStatus.SUSPENDED, updated_at=now))
    assert store.transition(suspended, TaskStatus.RUNNING, 1, beat_at=running.heartbeat_at)
    return suspended


def test_marking_the_suspended_event_sent_never_undoes_the_resume_that_raced_it(
    dynamodb: StoreBackend, held: HeldRead
) -> None:
    store = dynamodb.store
    events = Events()
    outbox = Outbox(Announcer(events, None), retry_base_seconds=0.01, retry_max_seconds=0.05)
    suspended = _suspended(store, outbox)
    now = time.time()
    resumed = suspended.replace(
        status=TaskStatus.RUNNING, attempt=2, heartbeat_at=now, updated_at=now, announce_pending=()
    )

    held.armed.set()
    outbox.deliver(suspended, store)  # sends the event, then marks it sent: that write is held
    assert held.holding.wait(10), "the outbox never wrote its mark"
    assert store.transition(resumed, TaskStatus.SUSPENDED, 1)  # the resume, acknowledged
    held.released.set()
    outbox.close(10)  # the marking write finishes

    assert events.published == [(suspended.task_id, 1, "SUSPENDED")]
    stored = store.get(suspended.session_id, suspended.task_id)
    assert stored is not None
    assert (stored.status, stored.attempt, stored.heartbeat_at) == (TaskStatus.RUNNING, 2, now)
    assert stored == resumed
    assert [r.task_id for r in store.unfinished(suspended.session_id)] == [suspended.task_id]
