"""The task engine: runs tasks of every kind as asyncio tasks and answers from the store.

Every blocking store call runs in a bounded thread pool, so the event loop (which also serves
/ping) never waits on I/O. The store record is the source of truth; the engine keeps only what
it needs to drive its own running attempts. Every write after creation is conditional on the
record's status and attempt, so at most one process ever runs a task.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any, Protocol, TypeVar

from opentelemetry.trace import Span

from agent import lifecycle, metrics, telemetry
from agent.announce.announcer import Announcer
from agent.announce.outbox import Outbox
from agent.clock import Clock, SystemClock
from agent.cpu import CpuWorkers
from agent.errors import (
    ApiError,
    StoreUnavailableError,
    invalid_field,
    record_unreadable,
    result_expired,
    shutting_down,
)
from agent.gateway import StoreGateway, if_missing
from agent.kinds.base import InputProblem, StartLimits, TaskError, TaskKind
from agent.kinds.registry import Kinds, parse_input
from agent.lifecycle import Actor
from agent.logs import bind
from agent.payloads import StartTask
from agent.records import TaskRecord, TaskStatus
from agent.run_context import RunContext, Running
from agent.settings import Settings
from agent.store.base import Beat, Cursor, Stores
from agent.store.failures import refused_object
from agent.transitions import Transitions
from agent.work import task_id_for_token

T = TypeVar("T")
log = logging.getLogger("agent.engine")
Key = tuple[str, str]

SHUTDOWN_RECORD_SECONDS = 3.0
"""How long SIGTERM handling waits for in-flight tasks to record themselves before answering
pending long-polls (at most a third of the stop grace)."""
SHUTDOWN_ANNOUNCE_SECONDS = 3.0
"""How long shutdown gives pending announcements (the SUSPENDED and LOST events of SIGTERM); what
is not sent by then stays owed in its record, for the next process that reads it."""


class BusyTracker(Protocol):
    """Keeps /ping at HealthyBusy while work runs (see :class:`agent.ping.PingState`)."""

    def enter(self) -> None:
        """One more piece of work is running."""
        ...

    def leave(self) -> None:
        """One piece of work ended."""
        ...


class _SupersededError(Exception):
    """The stored record moved on while this attempt was still working on it."""


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
        self._busy = busy
        self.kinds = kinds
        self._model = model
        self._cpu = CpuWorkers(settings.cpu_workers)
        self._running: dict[Key, Running] = {}
        self._unconfirmed: dict[Key, set[str]] = {}
        """The ``start_id`` of each start whose create failed from our side, per task: a client-token
        retry may adopt the record one of them wrote. Each failed start has its own settle loop (see
        :meth:`_settle_unconfirmed`), which closes the record only if that start wrote it."""
        self._background: set[asyncio.Task[None]] = set()
        self._sessions_seen: set[str] = set()
        self._draining = False
        self._released = asyncio.Event()
        """Set on SIGTERM once in-flight tasks are recorded: pending long-polls answer at once."""
        self._stop_by = float("inf")
        """When shutdown must be over (monotonic): SIGTERM plus ``AGENT_STOP_GRACE_SECONDS``."""
        self._started = self._clock.monotonic()

    @property
    def running_count(self) -> int:
        """Tasks of this process still running."""
        return len(self._running)

    @property
    def stopping(self) -> bool:
        """Whether SIGTERM arrived."""
        return self._draining

    def remaining_seconds(self) -> float:
        """Seconds until this microVM reaches its maximum lifetime."""
        return max(0.0, self._settings.max_duration_seconds - (self._clock.monotonic() - self._started))

    # ---- public operations -------------------------------------------------------------

    async def visit(self, session_id: str) -> None:
        """Called before every invocation: the first one of a session in this process resumes the
        session's suspended tasks (and settles those whose microVM died)."""
        if session_id in self._sessions_seen or self._draining:
            return
        self._sessions_seen.add(session_id)
        try:
            for store in self._gateway.task_stores():
                if self._gateway.ephemeral_failing(store):
                    # Redis (the cache's server too) keeps failing: look again on a later invocation.
                    self._sessions_seen.discard(session_id)
                    continue
                for record in await self._gateway.io("unfinished", store.unfinished, session_id):
                    await self._driven(record)
                if self._transitions.announcing:
                    for record in await self._gateway.io("announcing", store.announcing, session_id):
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
        if self._draining:
            raise shutting_down()
        kind = self.kinds.get(request.kind)
        task_input = parse_input(kind, request.input, request.input_prefix)
        self._check_start(kind, task_input, request)
        now = self._clock.now()
        start_id = uuid.uuid4().hex
        task_id = (
            task_id_for_token(session_id, request.client_token, owner)
            if request.client_token
            else str(uuid.uuid4())
        )
        record = TaskRecord(
            session_id=session_id,
            task_id=task_id,
            status=TaskStatus.RUNNING,
            kind=kind.name,
            input_json=task_input.model_dump_json(),
            created_at=now,
            updated_at=now,
            heartbeat_at=now,
            expires_at=self._running_expiry(now, request.retention),
            retention=request.retention,
            client_token=request.client_token,
            owner=owner,
            start_id=start_id,
            callback_token=request.callback.task_token if request.callback is not None else None,
        )
        key = (session_id, task_id)
        store = self._gateway.store_for(record)
        try:
            stored = await self._gateway.io("create", store.create, record)
        except StoreUnavailableError:
            # The write may have landed: settle it so it never reads RUNNING without running.
            self._unconfirmed.setdefault(key, set()).add(start_id)
            self._spawn(self._settle_unconfirmed(record, start_id))
            raise
        if stored.status is TaskStatus.UNREADABLE:
            raise record_unreadable(stored.task_id)
        if stored.start_id == record.start_id or self._adopt(stored):
            self._launch(stored)
            metrics.task_started(stored.kind)
            log.info("task started", extra={"task_id": stored.task_id, "kind": stored.kind})
            return {"task_id": stored.task_id, "status": TaskStatus.RUNNING.value}
        if (stored.kind, stored.input_json, stored.retention, stored.owner, stored.callback_token) != (
            record.kind,
            record.input_json,
            record.retention,
            record.owner,
            record.callback_token,
        ):
            raise ApiError("ClientTokenConflict", "client_token was already used with different parameters")
        log.info("idempotent start", extra={"task_id": stored.task_id})
        stored = await self._driven(stored)
        return {"task_id": stored.task_id, "status": self._status_of(stored, self._clock.now()).value}

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
            record = await self._driven(await self._gateway.read(session_id, task_id, owner))
            status = self._status_of(record, self._clock.now())
            remaining = deadline - loop.time()
            running = self._running.get((session_id, task_id))
            progress = (running.record if running is not None else record).progress
            moved = last_progress is not None and progress != last_progress
            waits_for_another_image = self._unknown_kind(record) is not None
            if (
                status.finished
                or moved
                or remaining <= 0
                or self._released.is_set()
                or waits_for_another_image
            ):
                return await self._view(record, status)
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
        record = await self._settled(await self._gateway.read(session_id, task_id, owner))
        if record.status.finished:
            return await self._view(record, record.status)
        running = self._running.get((session_id, task_id))
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
            final = self._ended(record, TaskStatus.CANCELLED, "Cancelled", "cancelled by request")
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
        window = [await self._driven(record) for record in records[:limit]]
        page: dict[str, Any] = {
            "tasks": [self._summary(r, self._status_of(r, now)) for r in window],
            "next_cursor": Cursor.after(window[-1]).encode() if len(records) > limit else None,
        }
        if not complete:
            page["warning"] = "ephemeral tasks are not listed: their store is unavailable"
        return page

    async def drain(self) -> None:
        """On SIGTERM: refuse new starts, stop local work (resumable tasks are suspended with their
        last checkpoint, others recorded LOST), then answer every pending long-poll."""
        if self._draining:
            return
        self._draining = True
        grace = self._settings.stop_grace_seconds
        self._stop_by = self._clock.monotonic() + grace
        tasks = [running.task for running in self._running.values() if running.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=min(SHUTDOWN_RECORD_SECONDS, grace / 3))
        self._released.set()

    async def shutdown(self) -> None:
        """Stop local work (see :meth:`drain`) and release the stores, within the stop grace: a
        record a store does not take by then is settled after its lease, as after a kill."""
        await self.drain()
        pending = [r.task for r in self._running.values() if r.task is not None]
        if pending:
            await asyncio.wait(pending, timeout=self._stop_seconds_left(SHUTDOWN_ANNOUNCE_SECONDS))
        for task in self._background:
            task.cancel()
        self._cpu.close()
        self._gateway.close()
        if self._transitions.announcing:
            budget = min(SHUTDOWN_ANNOUNCE_SECONDS, self._stop_seconds_left())
            await asyncio.get_running_loop().run_in_executor(None, self._transitions.close, budget)
        self._gateway.close_stores()

    def _stop_seconds_left(self, keeping: float = 0.0) -> float:
        """Seconds of the stop grace left, less ``keeping`` for what still follows."""
        return max(0.0, self._stop_by - self._clock.monotonic() - keeping)

    # ---- what running tasks use (RunHost) ----------------------------------------------

    async def save_checkpoint(self, running: Running, state: Any) -> None:
        """Store a checkpoint durably (large ones in the blob store), riding out outages."""
        try:
            text = json.dumps(state, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"a checkpoint must be JSON: {exc}") from None
        data = text.encode()
        if len(data) > self._settings.max_result_bytes:
            raise TaskError(
                "CheckpointTooLarge", f"a checkpoint exceeds {self._settings.max_result_bytes} bytes"
            )
        key = await self._gateway.put_payload(running.record, "checkpoint", data)
        inline = text if key is None else None
        await self._beat(running, checkpoint=(inline, key))
        running.record = running.record.replace(checkpoint=inline, checkpoint_key=key)

    async def read_object(self, key: str) -> bytes:
        """An object of the configured bucket, held through a storage outage like a checkpoint.
        A key the bucket refuses is the caller's mistake (``ObjectNotFound``), not a storage failure."""
        if self._gateway.blobs is None:
            raise TaskError("NoBucket", "reading objects needs AGENT_BUCKET_NAME")

        def refused(exc: Exception) -> TaskError | None:
            if not refused_object(exc):
                return None
            message = f"{key} is not in the agent's bucket, or the agent may not read it"
            return TaskError("ObjectNotFound", message)

        return await self._gateway.get_blob("get object", key, refused, hold=True)

    def model(self) -> Any:
        """The configured strands model."""
        if self._model is None:
            raise TaskError("NoModel", "this agent has no model configured")
        return self._model()

    # ---- internals ---------------------------------------------------------------------

    def _check_start(self, kind: TaskKind[Any], task_input: Any, request: StartTask) -> None:
        if request.retention == "ephemeral" and not self._gateway.has_ephemeral:
            raise invalid_field("retention", "'ephemeral' needs a Redis store, which is not configured")
        if kind.check is None:
            return
        if kind.resumable:
            attempts = self._settings.max_attempts
            budget = self._settings.resumable_seconds
            over = (
                f"exceeds what {attempts} microVM lifetimes of {self._settings.max_duration_seconds:g}s"
                f" can run ({budget:.0f}s)"
            )
        else:
            budget = self.remaining_seconds()
            over = f"exceeds the remaining lifetime of this microVM ({budget:.0f}s)"
        limits = StartLimits(
            max_seconds=budget, over_time=over, max_result_bytes=self._settings.max_result_bytes
        )
        try:
            kind.check(task_input, limits)
        except InputProblem as problem:
            raise invalid_field(request.input_prefix + problem.field, problem.message) from None

    def _running_expiry(self, now: float, retention: str) -> int:
        return lifecycle.running_expiry(now, retention, self._settings)

    def _final_expiry(self, record: TaskRecord) -> int:
        return lifecycle.final_expiry(self._clock.now(), record.retention, self._settings)

    def _ended(
        self, record: TaskRecord, status: TaskStatus, code: str | None, message: str | None, **fields: Any
    ) -> TaskRecord:
        """``record`` moved to ``status`` now (see :func:`agent.lifecycle.ended`)."""
        return lifecycle.ended(record, status, code, message, self._clock.now(), **fields)

    def _status_of(self, record: TaskRecord, now: float) -> TaskStatus:
        """RUNNING records of other processes whose heartbeat is older than the lease are dead."""
        ours = (record.session_id, record.task_id) in self._running
        return lifecycle.status_of(record, now, self._settings, self._resumable(record), ours=ours)

    def _resumable(self, record: TaskRecord) -> bool | None:
        """Whether this image resumes the record's kind; None for a kind it does not register
        (such a record waits SUSPENDED: an image that registers the kind decides)."""
        return self.kinds.get(record.kind).resumable if record.kind in self.kinds else None

    def _unknown_kind(self, record: TaskRecord) -> ApiError | None:
        """Why this image leaves a SUSPENDED record alone: its kind is not registered here."""
        if record.status is not TaskStatus.SUSPENDED or record.kind in self.kinds:
            return None
        return ApiError("UnknownKind", f"kind {record.kind[:64]!r} is not registered in this version")

    async def _settled(self, record: TaskRecord) -> TaskRecord:
        """``record``, except that a RUNNING record whose lease ran out is written SUSPENDED (a
        resumable kind) or LOST first.

        Once a caller is told LOST it stays LOST: a process that was only frozen cannot finish the
        task afterwards (its conditional writes fail and its next heartbeat stops it).
        """
        self._transitions.announce_owed(record)
        now = self._clock.now()
        ours = (record.session_id, record.task_id) in self._running
        settled = lifecycle.settlement(record, now, self._settings, self._resumable(record), ours=ours)
        if settled is None:
            return record
        if await self._transitions.write(Actor.SETTLE, record, settled):
            log.info("task lease ran out", extra={"task_id": record.task_id, "status": settled.status.value})
            return settled
        return await self._gateway.reread(record)

    async def _driven(self, record: TaskRecord) -> TaskRecord:
        """:meth:`_settled`, and a SUSPENDED task is resumed here (unless this process is stopping)."""
        record = await self._settled(record)
        if self._draining:
            return record
        decided = lifecycle.resumption(record, self._clock.now(), self._settings, self._resumable(record))
        if decided is None:
            return record  # unclaimed: an image that registers the kind resumes it
        # The fencing step: only one process moves SUSPENDED at this attempt on.
        if not await self._transitions.write(Actor.RESUME, record, decided):
            return await self._gateway.reread(record)
        if decided.status is TaskStatus.RUNNING:
            self._launch(decided)
            log.info("task resumed", extra={"task_id": decided.task_id, "attempt": decided.attempt})
        return decided

    def _adopt(self, stored: TaskRecord) -> bool:
        """Whether ``stored`` was written by a start of ours that answered an error and was not run
        since; if so it is taken over (a client-token retry of that start now runs it)."""
        key = (stored.session_id, stored.task_id)
        # Still RUNNING at the first attempt: not resumed by another process since.
        if stored.start_id not in self._unconfirmed.get(key, ()) or (stored.status, stored.attempt) != (
            TaskStatus.RUNNING,
            1,
        ):
            return False
        del self._unconfirmed[key]  # every failed start of this task: the record is run now
        return True

    def _adoption_window(self) -> float:
        """How long after its create a record with a client token waits for a retry to adopt it.

        Until one heartbeat before its lease runs out: every reader takes the record for live work
        until the lease ends anyway (as after a kill), and after that readers settle it themselves
        (LOST, or SUSPENDED and resumed by whoever reads it). The heartbeat left over is time for
        the closing write. With the defaults (10 s, 60 s) a retry has 50 s, longer than a client's
        capped backoff.
        """
        return self._settings.lease_seconds - self._settings.heartbeat_seconds

    async def _settle_unconfirmed(self, record: TaskRecord, start_id: str) -> None:
        """After a create that failed from our side: once storage answers, a record our start
        wrote (and nobody adopted) is closed as FAILED, so it does not read RUNNING unrun. Without
        a client token nobody can ask for it again, so it is closed at once; with one, a retry may
        adopt it within :meth:`_adoption_window` (or until this process stops)."""
        key = (record.session_id, record.task_id)

        def unclaimed() -> bool:  # neither adopted by a retry nor settled yet
            return start_id in self._unconfirmed.get(key, ())

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
            wait = ours.heartbeat_at + self._adoption_window() - self._clock.now()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._released.wait(), timeout=max(0.0, wait))
        if not unclaimed():
            return
        self._settled_unconfirmed(key, start_id)
        if ours is None:
            return  # another start's write (its own settle closes it), or none landed
        failed = self._ended(
            ours, TaskStatus.FAILED, "StartFailed", "its start answered StorageUnavailable; start again"
        ).replace(expires_at=self._final_expiry(ours))
        # Conditional on RUNNING at the first attempt: a record that moved on meanwhile (cancelled,
        # settled LOST or resumed elsewhere) is left as it is.
        with contextlib.suppress(StoreUnavailableError):
            closing = partial(self._transitions.write, Actor.CLOSE_START, ours, failed)
            if await self._gateway.until_stored("close unconfirmed", closing):
                log.info("unconfirmed start closed", extra={"task_id": record.task_id})

    def _settled_unconfirmed(self, key: Key, start_id: str) -> None:
        """``start_id``'s failed start is settled: forget it (and the task's entry with the last)."""
        pending = self._unconfirmed.get(key, set())
        pending.discard(start_id)
        if not pending:
            self._unconfirmed.pop(key, None)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _summary(self, record: TaskRecord, status: TaskStatus) -> dict[str, Any]:
        running = self._running.get((record.session_id, record.task_id))
        live = running.record if running is not None else record  # fresher progress than the store
        summary: dict[str, Any] = {
            "task_id": record.task_id,
            "kind": record.kind,
            "status": status.value,
            "progress": live.progress,
            "attempt": record.attempt,
            "created_at": record.created_at,
            "updated_at": record.updated_at,
            "retention": record.retention,
        }
        if live.message is not None:
            summary["message"] = live.message
        return summary

    async def _view(self, record: TaskRecord, status: TaskStatus) -> dict[str, Any]:
        view = self._summary(record, status)
        if record.result is not None:
            view["result"] = _decode_result(record.result, record.result_format)
        elif record.result_key is not None and (blobs := self._gateway.blobs) is not None:
            size = record.result_size or 0
            if size > self._settings.presign_threshold_bytes:
                expiry = self._settings.presign_expiry_seconds
                view["result_url"] = await self._gateway.io(
                    "presign", blobs.presign, record.result_key, expiry
                )
            else:
                gone = if_missing(result_expired(record.task_id))
                data = await self._gateway.get_blob("get result", record.result_key, gone, hold=False)
                view["result"] = _decode_result(data.decode("utf-8"), record.result_format)
        if record.error_code is not None:
            view["error"] = {"code": record.error_code, "message": record.error_message or ""}
        if (unknown := self._unknown_kind(record)) is not None:
            view["error"] = unknown.body()["error"]
        return view

    def _launch(self, record: TaskRecord) -> None:
        key = (record.session_id, record.task_id)
        if key in self._running:
            return
        running = Running(record=record, kind=self.kinds.get(record.kind))
        running.last_beat = asyncio.get_running_loop().time()
        self._running[key] = running
        running.task = asyncio.get_running_loop().create_task(
            self._run(running), name=f"task-{record.task_id}"
        )

    async def _run(self, running: Running) -> None:
        record = running.record
        kind = running.kind
        # This asyncio task's own context: every line it logs carries these.
        bind(session_id=record.session_id, task_id=record.task_id, attempt=record.attempt, kind=kind.name)
        with telemetry.task_span(
            session_id=record.session_id, task_id=record.task_id, kind=kind.name, attempt=record.attempt
        ) as span:
            await self._attempt(running, span)

    async def _attempt(self, running: Running, span: Span) -> None:
        record = running.record
        kind = running.kind
        self._busy.enter()
        started = self._clock.monotonic()
        heartbeat = asyncio.create_task(self._heartbeats(running))
        final: TaskRecord | None = None
        try:
            try:
                resume_state = await self._resume_state(record)
                interval = self._settings.heartbeat_seconds
                if kind.cpu_bound:
                    output = await self._cpu.run(
                        running, self, resume_state=resume_state, checkpoint_interval=interval
                    )
                else:
                    context = RunContext(
                        running, self, resume_state=resume_state, checkpoint_interval=interval
                    )
                    output = await kind.run(context, kind.input_model.model_validate_json(record.input_json))
                final = await self._completed(running, output)
            except asyncio.CancelledError:
                if running.superseded:
                    log.info("task record changed elsewhere; stopping")
                    telemetry.end_task(span, telemetry.SUPERSEDED, None)
                elif running.cancel_requested:
                    final = self._ended(
                        running.record, TaskStatus.CANCELLED, "Cancelled", "cancelled by request"
                    )
                else:
                    stopped = await self._record_stop(running)  # shutdown (SIGTERM): say so before exiting
                    telemetry.end_task(span, stopped.status.value, stopped.error_code)
                    raise
            except _SupersededError:
                log.info("task record changed elsewhere; stopping")
                telemetry.end_task(span, telemetry.SUPERSEDED, None)
            except TaskError as error:
                final = self._ended(running.record, TaskStatus.FAILED, error.code, error.message)
            except Exception as exc:
                log.exception("task failed")
                final = self._ended(
                    running.record, TaskStatus.FAILED, "TaskFailed", f"the task failed ({type(exc).__name__})"
                )
            if final is not None:
                running.recording = True
                recorded = await self._record_final(
                    record, final.replace(expires_at=self._final_expiry(final))
                )
                _attempt_ended(span, recorded, self._clock.monotonic() - started)
        finally:
            heartbeat.cancel()
            self._busy.leave()
            self._running.pop(running.key, None)
            running.done.set()
            running.changed.set()

    async def _resume_state(self, record: TaskRecord) -> Any:
        """The last checkpoint; one spilled to the bucket is read holding through an outage, like
        the write that stored it (the attempt keeps its heartbeats meanwhile)."""
        if record.checkpoint is not None:
            return json.loads(record.checkpoint)
        if record.checkpoint_key is not None and self._gateway.blobs is not None:
            expired = TaskError("CheckpointExpired", "the checkpoint to resume from is no longer stored")
            gone = if_missing(expired)
            return json.loads(
                await self._gateway.get_blob("get checkpoint", record.checkpoint_key, gone, hold=True)
            )
        return None

    async def _heartbeats(self, running: Running) -> None:
        """Prove the attempt alive every heartbeat interval (a checkpoint counts as one)."""
        with telemetry.untraced():
            await self._beat_periodically(running)

    async def _beat_periodically(self, running: Running) -> None:
        loop = asyncio.get_running_loop()
        interval = self._settings.heartbeat_seconds
        while True:
            await asyncio.sleep(max(0.0, running.last_beat + interval - loop.time()))
            if loop.time() < running.last_beat + interval:
                continue
            try:
                await self._beat(running)
            except StoreUnavailableError:
                log.warning("heartbeat not recorded")
                running.last_beat = loop.time()
            except _SupersededError:
                if running.task is not None and not running.recording:
                    running.task.cancel()
                return

    async def _beat(self, running: Running, checkpoint: tuple[str | None, str | None] | None = None) -> None:
        record = running.record
        now = self._clock.now()
        beat = Beat(
            progress=record.progress,
            message=record.message,
            at=now,
            expires_at=self._running_expiry(now, record.retention),
            checkpoint=checkpoint,
        )
        store = self._gateway.store_for(record)
        # A checkpoint is work done, held through an outage; a plain heartbeat can wait for the next.
        what, call = (
            ("checkpoint", self._gateway.io_until_stored)
            if checkpoint is not None
            else ("heartbeat", self._gateway.io)
        )
        alive = await call(what, store.beat, record.session_id, record.task_id, record.attempt, beat)
        if not alive:
            running.superseded = True
            raise _SupersededError
        running.last_beat = asyncio.get_running_loop().time()

    async def _completed(self, running: Running, output: Any) -> TaskRecord:
        record = running.record
        if isinstance(output, str):
            text, result_format = output, "text"
        else:
            try:
                text = json.dumps(output, separators=(",", ":"), allow_nan=False)
            except (TypeError, ValueError):
                raise TaskError("BadResult", "the task's result is neither text nor JSON") from None
            result_format = "json"
        data = text.encode()
        if len(data) > self._settings.max_result_bytes:
            raise TaskError("ResultTooLarge", f"the result exceeds {self._settings.max_result_bytes} bytes")
        done = partial(self._ended, record, TaskStatus.COMPLETED, None, None, result_format=result_format)
        try:
            key = await self._gateway.put_payload(record, "result", data)
        except Exception:
            log.exception("result could not be stored")
            return self._ended(
                record, TaskStatus.FAILED, "ResultStoreFailed", "the result could not be stored"
            )
        if key is not None:
            return done(result_key=key, result_size=len(data))
        return done(result=text, result_size=len(data))

    async def _record_stop(self, running: Running) -> TaskRecord:
        """SIGTERM: store SUSPENDED (resumable, with the last checkpoint) or LOST now, with the usual
        bounded retries; a record whose mark cannot be written is settled after its lease. Returns
        the record it meant to write."""
        record = running.record
        if running.kind.resumable:
            stopped = self._ended(record, TaskStatus.SUSPENDED, None, None, keep_checkpoint=True)
        else:
            stopped = self._ended(
                record, TaskStatus.LOST, "TaskLost", "the agent stopped before the task finished"
            )
        try:
            await self._transitions.write(
                Actor.ATTEMPT, record, stopped.replace(expires_at=self._final_expiry(record))
            )
        except Exception:
            log.warning("task left RUNNING at shutdown; it is settled after the lease")
        return stopped

    async def _record_final(self, current: TaskRecord, final: TaskRecord) -> TaskRecord | None:
        """Write ``final``; a result that cannot be stored is recorded FAILED instead. Returns the
        outcome it wrote (or last tried to), or None when the record had changed elsewhere."""
        try:
            if not await self._gateway.until_stored(
                "finish", partial(self._transitions.write, Actor.ATTEMPT, current, final)
            ):
                log.warning("record changed elsewhere; outcome not recorded")
                return None
            return final
        except Exception:
            if final.status is not TaskStatus.COMPLETED:
                log.exception("final state not recorded")
                return final
            log.exception("result could not be recorded")
            failed = self._ended(
                final, TaskStatus.FAILED, "ResultStoreFailed", "the result could not be stored"
            )
            try:
                await self._transitions.write(Actor.ATTEMPT, current, failed)
            except Exception:
                log.exception("final state not recorded")
            return failed


def _attempt_ended(span: Span, recorded: TaskRecord | None, elapsed: float) -> None:
    """Trace and log the outcome an attempt recorded (None: another process's write won)."""
    if recorded is None:
        telemetry.end_task(span, telemetry.SUPERSEDED, None)
        return
    telemetry.end_task(span, recorded.status.value, recorded.error_code)
    log.info(
        "task finished",
        extra={"status": recorded.status.value, "elapsed_s": round(elapsed, 3)},
    )


def _decode_result(text: str, result_format: str) -> Any:
    return json.loads(text) if result_format == "json" else text
