"""Runs the announcements of task states off the event loop, after their state was written."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Protocol

from agent.records import TaskRecord, TaskStatus

log = logging.getLogger("agent.announce")

ANNOUNCE_THREADS = 4


class Publisher(Protocol):
    """Announces one record's state somewhere (blocking; raises when it could not)."""

    def close(self) -> None:
        """Release the client."""
        ...


class EventPublisher(Publisher, Protocol):
    """Puts the state-change event."""

    def publish(self, record: TaskRecord) -> None:
        """Announce ``record``'s state."""
        ...


class CallbackSender(Publisher, Protocol):
    """Completes the record's task token."""

    def complete(self, record: TaskRecord) -> None:
        """Report ``record``'s final state to its token."""
        ...


class Announcer:
    """One event per state reached (final or SUSPENDED) and the callback of a final state.

    ``announce`` returns at once: the calls run on a few threads of their own, so a slow or
    unreachable EventBridge or Step Functions never holds a request, the event loop or the
    storage threads. A failure (after the clients' retries) is logged and changes nothing.
    """

    def __init__(self, events: EventPublisher | None, callbacks: CallbackSender | None) -> None:
        self._events = events
        self._callbacks = callbacks
        self._pool = ThreadPoolExecutor(max_workers=ANNOUNCE_THREADS, thread_name_prefix="agent-announce")
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()
        """Guards ``_pending``: futures leave it from the announcing threads."""

    def announce(self, record: TaskRecord) -> None:
        """Schedule the announcements of ``record``'s state (a RUNNING record announces nothing)."""
        if record.status is TaskStatus.RUNNING:
            return
        if self._events is not None:
            self._submit(self._events.publish, record, "event not published")
        if self._callbacks is not None and record.callback_token is not None and record.status.finished:
            self._submit(self._callbacks.complete, record, "task token not completed")

    def _submit(self, call: Callable[[TaskRecord], None], record: TaskRecord, failure: str) -> None:
        def run() -> None:
            try:
                call(record)
            except Exception as exc:
                # Type and AWS error code only: driver text may carry endpoints or tokens.
                code = getattr(exc, "response", {}).get("Error", {}).get("Code")
                log.warning(
                    failure,
                    extra={
                        "task_id": record.task_id,
                        "status": record.status.value,
                        "error_type": type(exc).__name__,
                        "error_code": code,
                    },
                )

        try:
            future = self._pool.submit(run)
        except RuntimeError:  # closed: the process is stopping
            log.warning(failure, extra={"task_id": record.task_id, "status": record.status.value})
            return
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def close(self, timeout: float) -> None:
        """Give pending announcements up to ``timeout`` seconds, then release the clients."""
        with self._lock:
            pending = list(self._pending)
        if pending:
            wait(pending, timeout=timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)
        for publisher in (self._events, self._callbacks):
            if publisher is not None:
                publisher.close()
