"""The transactional outbox: a state is written together with the announcements it owes
(``announce_pending``), and they are sent after the write and cleared once sent.

Whoever reads a record that still owes something sends it, so an announcement survives the
process that wrote the state (a kill, a SIGTERM shorter than the clients' timeouts, an endpoint
failing for longer than their retries): it is sent at least once, and each carries a stable id
(:func:`agent.announce.detail.event_id`) for consumers to drop duplicates.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor, wait

from agent.announce.announcer import Announcer
from agent.records import TaskRecord
from agent.store.base import TaskStore

log = logging.getLogger("agent.announce")

ANNOUNCE_THREADS = 4
REMEMBERED_SENT = 4096
"""How many sent (task, attempt, state)s a process remembers, so that a read racing the clearing
write does not send them again (another process may: at least once)."""

Key = tuple[str, str, int, str]


class Outbox:
    """Sends what records owe on threads of its own (never the event loop or the storage pool),
    retrying with backoff while this process lives, and clears it with a conditional write."""

    def __init__(self, announcer: Announcer, *, retry_base_seconds: float, retry_max_seconds: float) -> None:
        self._announcer = announcer
        self._base = retry_base_seconds
        self._max = max(retry_base_seconds, retry_max_seconds)
        self._pool = ThreadPoolExecutor(max_workers=ANNOUNCE_THREADS, thread_name_prefix="agent-announce")
        self._sending: dict[Key, Future[None]] = {}
        """One delivery per (task, attempt, state) at a time, however often the record is read."""
        self._sent: OrderedDict[Key, None] = OrderedDict()
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def owe(self, record: TaskRecord) -> TaskRecord:
        """``record`` carrying the announcements its state owes, to be written with it."""
        return record.replace(announce_pending=self._announcer.owed(record))

    def deliver(self, record: TaskRecord, store: TaskStore) -> None:
        """Send what ``record`` owes, in the background (returns at once)."""
        if not record.announce_pending or self._closed.is_set():
            return
        key = _key(record)
        with self._lock:
            if key in self._sending or key in self._sent:
                return
            try:
                future = self._pool.submit(self._deliver, record, store)
            except RuntimeError:  # closed: the process is stopping; the record keeps what it owes
                return
            self._sending[key] = future
        future.add_done_callback(lambda _: self._forget(key))

    def _forget(self, key: Key) -> None:
        with self._lock:
            self._sending.pop(key, None)

    def _remember_sent(self, record: TaskRecord) -> None:
        with self._lock:
            self._sent[_key(record)] = None
            if len(self._sent) > REMEMBERED_SENT:
                self._sent.popitem(last=False)

    def _deliver(self, record: TaskRecord, store: TaskStore) -> None:
        owed = list(record.announce_pending)
        delay = self._base
        while True:
            owed = [channel for channel in owed if not self._announcer.send(record, channel)]
            if not owed:
                break
            if self._closed.wait(delay):
                return  # stopping: the record still owes them, for the next process
            delay = min(delay * 2, self._max)
        self._remember_sent(record)
        self._clear(record, store)

    @staticmethod
    def _clear(record: TaskRecord, store: TaskStore) -> None:
        """Mark ``record``'s announcements sent, only while the record is still that state of that
        attempt. A final or suspended record changes in nothing else, and a writer only ever drops
        what it sent itself, so a concurrent clear can at worst leave something owed (sent again:
        at least once), never drop what nobody sent.

        The mark writes that one field, never ``record`` itself: a resume claims a SUSPENDED record
        under the same fence, and where a store checks and writes in separate steps (moto) both can
        pass; a whole image landing last would put attempt N back over the acknowledged N+1."""
        try:
            store.clear_announced(record.session_id, record.task_id, record.status, record.attempt)
        except Exception as exc:
            log.warning(
                "announcement sent but not marked",
                extra={"task_id": record.task_id, "error_type": type(exc).__name__},
            )

    def close(self, timeout: float) -> None:
        """Give sends in flight up to ``timeout`` seconds; what is not sent stays owed in its record."""
        self._closed.set()
        with self._lock:
            pending = list(self._sending.values())
        if pending:
            wait(pending, timeout=timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._announcer.close()


def _key(record: TaskRecord) -> Key:
    """One delivery: a state (task, attempt, status) of one session."""
    return (record.session_id, record.task_id, record.attempt, record.status.value)
