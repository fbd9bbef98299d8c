"""The task engine: the public operations on tasks, over the parts that do the work.

Construction runs one way: settings and stores → :class:`~agent.gateway.StoreGateway` (every store
call, off the event loop) → :class:`~agent.transitions.Transitions` (fenced, announced state
changes) → :class:`~agent.attempts.AttemptRunner` (this process's attempts) → the engine. The rules
themselves live in :mod:`agent.lifecycle`; the store record is the source of truth, and every write
after creation is conditional on its status and attempt, so at most one process runs a task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

from agent import lifecycle, metrics
from agent.announce.announcer import Announcer
from agent.announce.outbox import Outbox
from agent.attempts import AttemptRunner, BusyTracker
from agent.clock import Clock, SystemClock
from agent.errors import (
    ApiError,
    StoreUnavailableError,
    invalid_field,
    record_unreadable,
    shutting_down,
)
from agent.gateway import StoreGateway
from agent.kinds.registry import Kinds, parse_input
from agent.lifecycle import Actor
from agent.payloads import StartTask
from agent.reconciler import Reconciler
from agent.records import TaskStatus
from agent.run_context import Running
from agent.settings import Settings
from agent.starts import check_start, new_record, same_task
from agent.store.base import Cursor, Stores
from agent.transitions import Transitions
from agent.unconfirmed import UnconfirmedStarts
from agent.views import TaskViews

log = logging.getLogger("agent.engine")

SHUTDOWN_RECORD_SECONDS = 3.0
"""How long SIGTERM handling waits for in-flight tasks to record themselves before answering
pending long-polls (at most a third of the stop grace)."""
SHUTDOWN_ANNOUNCE_SECONDS = 3.0
"""How long shutdown gives pending announcements (the SUSPENDED and LOST events of SIGTERM); what
is not sent by then stays owed in its record, for the next process that reads it."""


class TaskEngine:
    """Runs, reads, resumes, cancels and lists tasks for sessions."""

    def __init__(
        self,
        settings: Settings,
        stores: Stores,
        busy: BusyTracker,
        kinds: Kinds,
        model: Callable[[], Any] | None = None,
        *,
        announcer: Announcer | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock if clock is not None else SystemClock()
        self._gateway = StoreGateway(settings, stores, self._clock)
        outbox = (
            Outbox(
                announcer,
                retry_base_seconds=settings.retry_base_seconds,
                retry_max_seconds=settings.lease_seconds,
            )
            if announcer is not None
            else None
        )
        self._transitions = Transitions(self._gateway, outbox)
        """Every state a task reaches is written with what it owes (events, task tokens) and sent."""
        self._runner = AttemptRunner(
            settings, self._gateway, self._transitions, busy=busy, kinds=kinds, model=model, clock=self._clock
        )
        self.kinds = kinds
        self._reconciler = Reconciler(settings, self._gateway, self._transitions, self._runner, self._clock)
        self._views = TaskViews(settings, self._gateway, self._runner)
        self._released = asyncio.Event()
        """Set on SIGTERM once in-flight tasks are recorded: pending long-polls answer at once."""
        self._unconfirmed = UnconfirmedStarts(
            settings, self._gateway, self._transitions, self._clock, self._released
        )
        self._sessions_seen: set[str] = set()
        self._stop_by = float("inf")
        """When shutdown must be over (monotonic): SIGTERM plus ``AGENT_STOP_GRACE_SECONDS``."""

    @property
    def running_count(self) -> int:
        """Tasks of this process still running."""
        return self._runner.running_count

    @property
    def stopping(self) -> bool:
        """Whether SIGTERM arrived."""
        return self._runner.stopping

    def remaining_seconds(self) -> float:
        """Seconds until this microVM reaches its maximum lifetime."""
        return self._runner.remaining_seconds()

    # ---- public operations -------------------------------------------------------------

    async def visit(self, session_id: str) -> None:
        """Called before every invocation: the first one of a session in this process resumes the
        session's suspended tasks (and settles those whose microVM died)."""
        if session_id in self._sessions_seen or self.stopping:
            return
        self._sessions_seen.add(session_id)
        try:
            for store in self._gateway.task_stores():
                if self._gateway.ephemeral_failing(store):
                    # Redis (the cache's server too) keeps failing: look again on a later invocation.
                    self._sessions_seen.discard(session_id)
                    continue
                # One read for both: what to resume or settle, and finished states still owing.
                for record in await self._gateway.io("unfinished", store.open_records, session_id):
                    if not record.status.finished:
                        await self._reconciler.driven(record)  # which also sends what it owes
                    elif self._transitions.announcing:
                        self._transitions.announce_owed(record)
        except (StoreUnavailableError, ApiError):
            self._sessions_seen.discard(session_id)  # try again on the next invocation
            log.warning("suspended tasks not resumed yet")

    async def start(self, session_id: str, request: StartTask, *, owner: str | None = None) -> dict[str, Any]:
        """Create the task record and start the work; idempotent per (session, owner, client_token).

        A start either runs its task or raises: the record carries this call's ``start_id``, so a
        driver retry that finds the record already written recognises it as ours. ``owner`` (the
        caller's identity under JWT auth) is bound into the record: only that caller sees the task.
        """
        if self.stopping:
            raise shutting_down()
        kind = self.kinds.get(request.kind)
        task_input = parse_input(kind, request.input, request.input_prefix)
        check_start(
            kind,
            task_input,
            request,
            self._settings,
            remaining_seconds=self.remaining_seconds(),
            has_ephemeral=self._gateway.has_ephemeral,
        )
        start_id = uuid.uuid4().hex
        now = self._clock.now()
        record = new_record(
            session_id,
            request,
            kind,
            task_input,
            owner=owner,
            start_id=start_id,
            now=now,
            settings=self._settings,
        )
        store = self._gateway.store_for(record)
        try:
            stored = await self._gateway.io("create", store.create, record)
        except StoreUnavailableError:
            # The write may have landed: settle it so it never reads RUNNING without running.
            self._unconfirmed.failed(record, start_id)
            raise
        if stored.status is TaskStatus.UNREADABLE:
            raise record_unreadable(stored.task_id)
        if stored.start_id == record.start_id or self._unconfirmed.adopt(stored):
            self._runner.launch(stored)
            metrics.task_started(stored.kind)
            log.info("task started", extra={"task_id": stored.task_id, "kind": stored.kind})
            return {"task_id": stored.task_id, "status": TaskStatus.RUNNING.value}
        if not same_task(stored, record):
            raise ApiError("ClientTokenConflict", "client_token was already used with different parameters")
        log.info("idempotent start", extra={"task_id": stored.task_id})
        stored = await self._reconciler.driven(stored)
        return {"task_id": stored.task_id, "status": self._reconciler.status_of(stored).value}

    async def get(
        self,
        session_id: str,
        task_id: str,
        wait_seconds: float = 0.0,
        last_progress: float | None = None,
        *,
        owner: str | None = None,
    ) -> dict[str, Any]:
        """The task's view; with ``wait_seconds`` returns as soon as it finishes, its progress differs
        from ``last_progress`` (when given), or the wait ends (at once when this process stops)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        while True:
            record = await self._reconciler.driven(await self._gateway.read(session_id, task_id, owner))
            status = self._reconciler.status_of(record)
            remaining = deadline - loop.time()
            running = self._runner.running(session_id, task_id)
            progress = (running.record if running is not None else record).progress
            moved = last_progress is not None and progress != last_progress
            waits_for_another_image = self._views.unknown_kind(record) is not None
            if (
                status.finished
                or moved
                or remaining <= 0
                or self._released.is_set()
                or waits_for_another_image
            ):
                return await self._views.view(record, status)
            if running is not None:
                wake = running.changed if last_progress is not None else running.done
            else:
                wake = self._released
            timeout = remaining if running is not None else min(self._settings.heartbeat_seconds, remaining)
            with contextlib.suppress(TimeoutError):
                # Not shielded: a timed-out wait must not leave a waiter behind for every poll.
                await asyncio.wait_for(wake.wait(), timeout=timeout)

    async def cancel(self, session_id: str, task_id: str, *, owner: str | None = None) -> dict[str, Any]:
        """Stop a running or suspended task; a finished one (LOST included) is returned unchanged."""
        record = await self._reconciler.settled(await self._gateway.read(session_id, task_id, owner))
        if record.status.finished:
            return await self._views.view(record, record.status)
        running = self._runner.running(session_id, task_id)
        if running is not None:
            running.cancel_requested = True
            if not running.recording and running.task is not None:
                running.task.cancel()
            try:
                await asyncio.wait_for(asyncio.shield(running.done.wait()), timeout=10)
            except TimeoutError:
                log.warning("cancelled task did not stop in time", extra={"task_id": task_id})
        else:
            # Suspended, or run by another process whose next heartbeat sees the change and stops.
            message = "cancelled by request"
            final = lifecycle.ended(record, TaskStatus.CANCELLED, "Cancelled", message, self._clock.now())
            await self._transitions.write(Actor.CANCEL, record, final)
        log.info("task cancel requested", extra={"task_id": task_id})
        return await self.get(session_id, task_id, owner=owner)

    async def list(
        self, session_id: str, limit: int, cursor_text: str | None, *, owner: str | None = None
    ) -> dict[str, Any]:
        """This session's live tasks of ``owner``, newest first, ``limit`` per page.

        Without the ephemeral store (Redis down) durable tasks are still listed, with a warning.
        """
        try:
            cursor = Cursor.decode(cursor_text) if cursor_text is not None else None
        except ValueError:
            raise invalid_field("cursor", "not a cursor returned by list_tasks") from None
        now = self._clock.now()
        records, complete = await self._gateway.listing(session_id, limit + 1, cursor, now, owner)
        records.sort(key=lambda r: (r.created_at, r.task_id), reverse=True)
        window = [await self._reconciler.driven(record) for record in records[:limit]]
        page: dict[str, Any] = {
            "tasks": [self._views.summary(r, self._reconciler.status_at(r, now)) for r in window],
            "next_cursor": Cursor.after(window[-1]).encode() if len(records) > limit else None,
        }
        if not complete:
            page["warning"] = "ephemeral tasks are not listed: their store is unavailable"
        return page

    async def drain(self) -> None:
        """On SIGTERM: refuse new starts, stop local work (resumable tasks are suspended with their
        last checkpoint, others recorded LOST), then answer every pending long-poll."""
        if self.stopping:
            return
        grace = self._settings.stop_grace_seconds
        self._stop_by = self._clock.monotonic() + grace
        tasks = self._runner.stop()
        if tasks:
            await asyncio.wait(tasks, timeout=min(SHUTDOWN_RECORD_SECONDS, grace / 3))
        self._released.set()

    async def shutdown(self) -> None:
        """Stop local work (see :meth:`drain`) and release the stores, within the stop grace: a
        record a store does not take by then is settled after its lease, as after a kill."""
        await self.drain()
        pending = self._runner.tasks()
        if pending:
            await asyncio.wait(pending, timeout=self._stop_seconds_left(SHUTDOWN_ANNOUNCE_SECONDS))
        self._unconfirmed.close()
        self._runner.close()
        self._gateway.close()
        if self._transitions.announcing:
            budget = min(SHUTDOWN_ANNOUNCE_SECONDS, self._stop_seconds_left())
            await asyncio.get_running_loop().run_in_executor(None, self._transitions.close, budget)
        self._gateway.close_stores()

    def _stop_seconds_left(self, keeping: float = 0.0) -> float:
        """Seconds of the stop grace left, less ``keeping`` for what still follows."""
        return max(0.0, self._stop_by - self._clock.monotonic() - keeping)

    # ---- what running tasks use (RunHost, served by the attempt runner) ------------------

    async def save_checkpoint(self, running: Running, state: Any) -> None:
        """Store a checkpoint durably (large ones in the blob store), riding out outages."""
        await self._runner.save_checkpoint(running, state)

    async def read_object(self, key: str) -> bytes:
        """An object of the configured bucket, held through a storage outage like a checkpoint."""
        return await self._runner.read_object(key)

    def model(self) -> Any:
        """The configured strands model."""
        return self._runner.model()
