"""The outbox: a state written with what it owes is sent, retried while the process lives, and
cleared only while the record is still that state; what shutdown cannot send stays owed."""

from __future__ import annotations

import threading
import time

import pytest

from agent.announce.announcer import CALLBACK, EVENT, Announcer
from agent.announce.outbox import Outbox
from agent.records import TaskRecord, TaskStatus
from agent.store.memory import MemoryStore
from tests.support.waiting import eventually

pytestmark = pytest.mark.unit


class FlakyEvents:
    """Fails the first ``failures`` publications, then records them; ``hang`` blocks every call."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.published: list[tuple[str, int, str]] = []
        self.hang = threading.Event()
        self.released = threading.Event()

    def publish(self, record: TaskRecord) -> None:
        if self.hang.is_set():
            self.released.wait(10)
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("endpoint down")
        self.published.append((record.task_id, record.attempt, record.status.value))

    def complete(self, record: TaskRecord) -> None:
        self.publish(record)

    def close(self) -> None:
        self.released.set()


def _written(
    store: MemoryStore, outbox: Outbox, *, status: TaskStatus = TaskStatus.COMPLETED, token: str | None = None
) -> TaskRecord:
    """A RUNNING record moved to ``status`` the way the engine does it: with what it owes."""
    now = time.time()
    running = TaskRecord(
        session_id="s",
        task_id="t",
        status=TaskStatus.RUNNING,
        kind="sleep",
        input_json="{}",
        created_at=now,
        updated_at=now,
        heartbeat_at=now,
        expires_at=int(now) + 60,
        callback_token=token,
    )
    store.create(running)
    final = outbox.owe(running.replace(status=status))
    assert store.transition(final, TaskStatus.RUNNING, 1)
    return final


def _owed(store: MemoryStore) -> tuple[str, ...]:
    record = store.get("s", "t")
    assert record is not None
    return record.announce_pending


def test_a_failing_endpoint_is_retried_until_sent_and_then_the_record_owes_nothing() -> None:
    events, store = FlakyEvents(failures=3), MemoryStore()
    outbox = Outbox(Announcer(events, events), retry_base_seconds=0.01, retry_max_seconds=0.05)
    final = _written(store, outbox, token="token")
    assert final.announce_pending == (EVENT, CALLBACK)
    outbox.deliver(final, store)
    outbox.deliver(final, store)  # read again meanwhile: one delivery at a time
    eventually(lambda: _owed(store) == (), what="the record to owe nothing")
    assert events.published == [("t", 1, "COMPLETED")] * 2  # the event and the callback, once each
    outbox.deliver(final, store)  # a stale read after the clear sends nothing again
    outbox.close(1.0)
    assert len(events.published) == 2


def test_what_shutdown_cannot_send_stays_owed() -> None:
    events, store = FlakyEvents(), MemoryStore()
    events.hang.set()
    outbox = Outbox(Announcer(events, None), retry_base_seconds=0.01, retry_max_seconds=0.05)
    final = _written(store, outbox)
    outbox.deliver(final, store)
    started = time.monotonic()
    outbox.close(0.1)
    assert time.monotonic() - started < 1.0
    assert _owed(store) == (EVENT,)


def test_a_record_that_moved_on_is_not_cleared_by_an_older_state_s_delivery() -> None:
    events, store = FlakyEvents(), MemoryStore()
    outbox = Outbox(Announcer(events, None), retry_base_seconds=0.01, retry_max_seconds=0.05)
    suspended = _written(store, outbox, status=TaskStatus.SUSPENDED)
    assert suspended.announce_pending == (EVENT,)
    resumed = suspended.replace(status=TaskStatus.RUNNING, attempt=2, announce_pending=())
    assert store.transition(resumed, TaskStatus.SUSPENDED, 1)  # another process resumed it
    outbox.deliver(suspended, store)
    eventually(lambda: events.published, what="the suspension to be announced")
    outbox.close(1.0)
    assert store.get("s", "t") == resumed
