"""Starts whose create answered an error: the record may have landed anyway. A client-token retry
may adopt it (and run it); otherwise it is closed FAILED once storage answers, so it never reads
RUNNING without running."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial

from agent import lifecycle
from agent.clock import Clock
from agent.errors import StoreUnavailableError
from agent.gateway import StoreGateway
from agent.lifecycle import Actor
from agent.records import TaskRecord, TaskStatus
from agent.settings import Settings
from agent.transitions import Transitions

log = logging.getLogger("agent.engine")
Key = tuple[str, str]


class UnconfirmedStarts:
    """The failed starts of this process, per task, each with its own settle loop."""

    def __init__(
        self,
        settings: Settings,
        gateway: StoreGateway,
        transitions: Transitions,
        clock: Clock,
        released: asyncio.Event,
    ) -> None:
        self._settings = settings
        self._gateway = gateway
        self._transitions = transitions
        self._clock = clock
        self._released = released
        """Set when this process stops: a record waiting for its retry is closed at once."""
        self._starts: dict[Key, set[str]] = {}
        """The ``start_id`` of each start whose create failed from our side, per task: a client-token
        retry may adopt the record one of them wrote. Each failed start has its own settle loop (see
        :meth:`_settle`), which closes the record only if that start wrote it."""
        self._settling: set[asyncio.Task[None]] = set()

    def failed(self, record: TaskRecord, start_id: str) -> None:
        """The create of ``record`` by start ``start_id`` answered StorageUnavailable: settle it."""
        self._starts.setdefault((record.session_id, record.task_id), set()).add(start_id)
        task = asyncio.get_running_loop().create_task(self._settle(record, start_id))
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

    def close(self) -> None:
        """Stop settling (shutdown): a record left RUNNING is settled after its lease, as after a kill."""
        for task in self._settling:
            task.cancel()

    def adopt(self, stored: TaskRecord) -> bool:
        """Whether ``stored`` was written by a start of ours that answered an error and was not run
        since; if so it is taken over (a client-token retry of that start now runs it)."""
        key = (stored.session_id, stored.task_id)
        # Still RUNNING at the first attempt: not resumed by another process since.
        if stored.start_id not in self._starts.get(key, ()) or (stored.status, stored.attempt) != (
            TaskStatus.RUNNING,
            1,
        ):
            return False
        del self._starts[key]  # every failed start of this task: the record is run now
        return True

    async def _settle(self, record: TaskRecord, start_id: str) -> None:
        """After a create that failed from our side: once storage answers, a record our start
        wrote (and nobody adopted) is closed as FAILED, so it does not read RUNNING unrun. Without
        a client token nobody can ask for it again, so it is closed at once; with one, a retry may
        adopt it until :func:`agent.lifecycle.adoption_deadline` (or until this process stops)."""
        key = (record.session_id, record.task_id)

        def unclaimed() -> bool:  # neither adopted by a retry nor settled yet
            return start_id in self._starts.get(key, ())

        store = self._gateway.store_for(record)
        delay = self._settings.retry_base_seconds
        while True:
            try:
                stored = await self._gateway.io("get", store.get, record.session_id, record.task_id)
                break
            except StoreUnavailableError:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._settings.heartbeat_seconds)
                if not unclaimed():
                    return
        ours = None  # the record as this start wrote it, not yet run
        if stored is not None and stored.start_id == start_id and stored.status is TaskStatus.RUNNING:
            ours = stored
        if ours is not None and record.client_token is not None and unclaimed():
            wait = lifecycle.adoption_deadline(ours, self._settings) - self._clock.now()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._released.wait(), timeout=max(0.0, wait))
        if not unclaimed():
            return
        self._forget(key, start_id)
        if ours is None:
            return  # another start's write (its own settle closes it), or none landed
        now = self._clock.now()
        message = "its start answered StorageUnavailable; start again"
        failed = lifecycle.ended(ours, TaskStatus.FAILED, "StartFailed", message, now).replace(
            expires_at=lifecycle.final_expiry(now, ours.retention, self._settings)
        )
        # Conditional on RUNNING at the first attempt: a record that moved on meanwhile (cancelled,
        # settled LOST or resumed elsewhere) is left as it is.
        with contextlib.suppress(StoreUnavailableError):
            closing = partial(self._transitions.write, Actor.CLOSE_START, ours, failed)
            if await self._gateway.until_stored("close unconfirmed", closing):
                log.info("unconfirmed start closed", extra={"task_id": record.task_id})

    def _forget(self, key: Key, start_id: str) -> None:
        """``start_id``'s failed start is settled: forget it (and the task's entry with the last)."""
        pending = self._starts.get(key, set())
        pending.discard(start_id)
        if not pending:
            self._starts.pop(key, None)
