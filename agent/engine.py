"""The task engine: starts background tasks as asyncio tasks and answers from the store.

Every blocking store call runs in a bounded thread pool, so the event loop (which
also serves /ping) never waits on I/O. The store record is the source of truth;
the engine only keeps what it needs to signal its own running tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol, TypeVar

from agent.errors import (
    ApiError,
    StoreUnavailableError,
    invalid_field,
    shutting_down,
    task_not_found,
)
from agent.payloads import StartTask
from agent.records import TaskRecord, TaskStatus
from agent.settings import Settings
from agent.store.base import Cursor, Stores, TaskStore
from agent.store.retry import RetryPolicy, is_transient
from agent.work import result_text, task_id_for_token

T = TypeVar("T")
log = logging.getLogger("agent.engine")
Key = tuple[str, str]


class BusyTracker(Protocol):
    """Keeps /ping at HealthyBusy while work runs (see :class:`agent.ping.PingState`)."""

    def enter(self) -> None:
        """One more piece of work is running."""
        ...

    def leave(self) -> None:
        """One piece of work ended."""
        ...


@dataclass
class _Running:
    task: asyncio.Task[None]
    done: asyncio.Event = field(default_factory=asyncio.Event)
    cancel_requested: bool = False
    recording: bool = False
    """The outcome is decided and being written: a cancel must not interrupt (and lose) it."""


class _SupersededError(Exception):
    """The stored record left RUNNING while this process was still working on it."""


SHUTDOWN_RECORD_SECONDS = 3.0
"""How long SIGTERM handling waits for in-flight tasks to record themselves before answering
pending long-polls; well inside AgentCore's 15 s grace period."""
LOST_MESSAGE = "the task stopped reporting (its microVM ended); start it again"


class TaskEngine:
    """Runs, reads, cancels and lists tasks for sessions."""

    def __init__(self, settings: Settings, stores: Stores, busy: BusyTracker) -> None:
        self._settings = settings
        self._stores = stores
        self._busy = busy
        self._pool = ThreadPoolExecutor(max_workers=settings.io_threads, thread_name_prefix="agent-io")
        self._retry = RetryPolicy(attempts=settings.write_attempts, base_seconds=settings.retry_base_seconds)
        self._running: dict[Key, _Running] = {}
        self._unconfirmed: dict[Key, TaskRecord] = {}
        """Records whose create failed from our side: a client-token retry may adopt them."""
        self._ephemeral: dict[Key, int] = {}
        """Ephemeral tasks created here (with their expiry): unknown ids are not ephemeral ones."""
        self._background: set[asyncio.Task[None]] = set()
        self._draining = False
        self._released = asyncio.Event()
        """Set on SIGTERM once in-flight tasks are recorded: pending long-polls answer at once."""
        self._started_at = time.time()

    @property
    def running_count(self) -> int:
        """Tasks of this process still running."""
        return len(self._running)

    # ---- public operations -------------------------------------------------------------

    async def start(self, session_id: str, request: StartTask) -> dict[str, Any]:
        """Create the task record and start the work; idempotent per (session, client_token).

        A start either runs its task or raises: the record carries this call's ``start_id``, so a
        driver retry that finds the record already written recognises it as ours.
        """
        if self._draining:
            raise shutting_down()
        self._check_start(request)
        now = time.time()
        task_id = (
            task_id_for_token(session_id, request.client_token) if request.client_token else str(uuid.uuid4())
        )
        ttl = self._settings.ephemeral_ttl_seconds if request.retention == "ephemeral" else None
        record = TaskRecord(
            session_id=session_id,
            task_id=task_id,
            status=TaskStatus.RUNNING,
            duration=request.duration,
            result_bytes=-1 if request.result_bytes is None else request.result_bytes,
            created_at=now,
            updated_at=now,
            heartbeat_at=now,
            # The TTL counts from the end of the work: a task longer than its TTL must not expire mid-run.
            expires_at=int(now + request.duration + (ttl or self._settings.result_ttl_seconds)),
            retention=request.retention,
            client_token=request.client_token,
            start_id=uuid.uuid4().hex,
        )
        key = (session_id, task_id)
        store = self._store_for(record)
        if record.retention == "ephemeral":
            self._remember_ephemeral(record)
        try:
            stored = await self._io("create", store.create, record)
        except StoreUnavailableError:
            # The write may have landed: settle it so it never reads RUNNING without running.
            self._unconfirmed[key] = record
            self._spawn(self._settle_unconfirmed(record))
            raise
        if stored.start_id == record.start_id or self._adopt(stored):
            self._launch(stored)
            log.info("task started", extra={**_ids(stored), "duration_s": stored.duration})
            return {"task_id": stored.task_id, "status": TaskStatus.RUNNING.value}
        if (stored.duration, stored.result_bytes, stored.retention) != (
            record.duration,
            record.result_bytes,
            record.retention,
        ):
            raise ApiError("ClientTokenConflict", "client_token was already used with different parameters")
        log.info("idempotent start", extra=_ids(stored))
        stored = await self._settled(stored)
        return {"task_id": stored.task_id, "status": self._status_of(stored, time.time()).value}

    async def get(self, session_id: str, task_id: str, wait_seconds: float = 0.0) -> dict[str, Any]:
        """The task's view; with ``wait_seconds`` returns as soon as it finishes or the wait ends
        (or at once when this process is stopping)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        while True:
            record = await self._settled(await self._read(session_id, task_id))
            status = self._status_of(record, time.time())
            remaining = deadline - loop.time()
            if status is not TaskStatus.RUNNING or remaining <= 0 or self._released.is_set():
                return await self._view(record, status)
            running = self._running.get((session_id, task_id))
            wake = running.done if running is not None else self._released
            timeout = remaining if running is not None else min(self._settings.heartbeat_seconds, remaining)
            with contextlib.suppress(TimeoutError):
                # Not shielded: a timed-out wait must not leave a waiter behind for every poll.
                await asyncio.wait_for(wake.wait(), timeout=timeout)

    async def cancel(self, session_id: str, task_id: str) -> dict[str, Any]:
        """Ask a running task to stop; a finished task (LOST included) is returned unchanged."""
        record = await self._settled(await self._read(session_id, task_id))
        if record.status.finished:
            return await self._view(record, record.status)
        running = self._running.get((session_id, task_id))
        if running is not None:
            if not running.recording:
                running.cancel_requested = True
                running.task.cancel()
            try:
                await asyncio.wait_for(asyncio.shield(running.done.wait()), timeout=10)
            except TimeoutError:
                log.warning("cancelled task did not stop in time", extra=_ids(record))
        else:
            # Another process works on it (its lease is live): the record decides; its next
            # heartbeat sees the change and stops the work there.
            final = _finished(record, TaskStatus.CANCELLED, "Cancelled", "cancelled by request")
            await self._io("finish", self._store_for(record).finish, final)
        log.info("task cancel requested", extra=_ids(record))
        return await self.get(session_id, task_id)

    async def list(self, session_id: str, limit: int, cursor_text: str | None) -> dict[str, Any]:
        """This session's live tasks, newest first, ``limit`` per page.

        Without the ephemeral store (Redis down) durable tasks are still listed, with a warning.
        """
        try:
            cursor = Cursor.decode(cursor_text) if cursor_text is not None else None
        except ValueError:
            raise invalid_field("cursor", "not a cursor returned by list_tasks") from None
        now = time.time()
        records = await self._io("list", self._stores.tasks.list, session_id, limit + 1, cursor, now)
        warning = None
        if self._stores.ephemeral is not None:
            try:
                records += await self._io(
                    "list", self._stores.ephemeral.list, session_id, limit + 1, cursor, now
                )
            except StoreUnavailableError:
                warning = "ephemeral tasks are not listed: their store is unavailable"
        records.sort(key=lambda r: (r.created_at, r.task_id), reverse=True)
        window = [await self._settled(record) for record in records[:limit]]
        page: dict[str, Any] = {
            "tasks": [_summary(r, self._status_of(r, now)) for r in window],
            "next_cursor": Cursor.after(window[-1]).encode() if len(records) > limit else None,
        }
        if warning is not None:
            page["warning"] = warning
        return page

    async def drain(self) -> None:
        """On SIGTERM: refuse new starts, stop local work recording each unfinished task, then
        answer every pending long-poll with the task's current state."""
        if self._draining:
            return
        self._draining = True
        tasks = [running.task for running in self._running.values()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=SHUTDOWN_RECORD_SECONDS)
        self._released.set()

    async def shutdown(self) -> None:
        """Stop local work, recording each unfinished task as LOST (see :meth:`_record_lost`)."""
        await self.drain()
        if self._running:
            await asyncio.gather(*(r.task for r in self._running.values()), return_exceptions=True)
        for task in self._background:
            task.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._stores.close()

    # ---- internals ---------------------------------------------------------------------

    def _check_start(self, request: StartTask) -> None:
        limit = float(self._settings.max_duration_seconds)
        if self._settings.max_lifetime_seconds is not None:
            limit -= time.time() - self._started_at
            if request.duration > limit:
                raise invalid_field(
                    "duration", f"exceeds the remaining lifetime of this microVM ({max(limit, 0):.0f}s)"
                )
        if request.duration > limit:
            raise invalid_field("duration", f"must be at most {limit:.0f} seconds")
        if request.result_bytes is not None and request.result_bytes > self._settings.max_result_bytes:
            raise invalid_field("result_bytes", f"must be at most {self._settings.max_result_bytes}")
        if request.retention == "ephemeral" and self._stores.ephemeral is None:
            raise invalid_field("retention", "'ephemeral' needs a Redis store, which is not configured")

    def _store_for(self, record: TaskRecord) -> TaskStore:
        if record.retention == "ephemeral" and self._stores.ephemeral is not None:
            return self._stores.ephemeral
        return self._stores.tasks

    def _status_of(self, record: TaskRecord, now: float) -> TaskStatus:
        if record.status is not TaskStatus.RUNNING:
            return record.status
        if (record.session_id, record.task_id) in self._running:
            return TaskStatus.RUNNING
        if now - record.heartbeat_at > self._settings.lease_seconds:
            return TaskStatus.LOST
        return TaskStatus.RUNNING

    async def _io(self, what: str, func: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, partial(self._retry.call, what, partial(func, *args)))

    async def _io_until_stored(self, what: str, func: Callable[..., T], *args: Any) -> T:
        """Like :meth:`_io`, but rides out a storage outage: keeps retrying while the failure is
        transient. The task stays in ``_running`` meanwhile, so it reads RUNNING here and /ping
        stays HealthyBusy (keeping the microVM and the finished result alive) until storage returns
        or the process stops (the record then reads LOST, as after any termination)."""
        delay = self._settings.retry_base_seconds
        while True:
            try:
                return await self._io(what, func, *args)
            except StoreUnavailableError as exc:
                if exc.__cause__ is None or not is_transient(exc.__cause__):
                    raise
            log.warning("storage unavailable; holding the result and retrying", extra={"operation": what})
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._settings.heartbeat_seconds)

    async def _io_once(self, func: Callable[..., T], *args: Any) -> T:
        """A call without retries, for the optional cache (a miss is cheaper than waiting)."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, partial(func, *args))

    async def _read(self, session_id: str, task_id: str) -> TaskRecord:
        cache = self._stores.cache
        if cache is not None:
            try:
                cached = await self._io_once(cache.get, session_id, task_id)
            except Exception:
                log.warning("result cache unavailable", extra={"session_id": session_id, "task_id": task_id})
                cached = None
            if cached is not None:
                return cached
        record = await self._io("get", self._stores.tasks.get, session_id, task_id)
        if record is None and self._stores.ephemeral is not None:
            try:
                record = await self._io("get", self._stores.ephemeral.get, session_id, task_id)
            except StoreUnavailableError:
                if self._is_ephemeral((session_id, task_id)):
                    raise
                detail = " (ephemeral tasks cannot be checked while their store is unavailable)"
                raise task_not_found(task_id, detail) from None
        if record is None or record.expires_at < time.time():
            raise task_not_found(task_id)
        if cache is not None and record.status.finished and record.retention == "durable":
            try:
                await self._io_once(cache.put, record)
            except Exception:
                log.warning("result cache unavailable", extra=_ids(record))
        return record

    async def _settled(self, record: TaskRecord) -> TaskRecord:
        """``record``, except that a RUNNING record whose lease ran out is written LOST first.

        Once a caller is told LOST it stays LOST: a process that was only frozen cannot finish
        the task afterwards (its conditional writes fail and its next heartbeat stops it).
        """
        if record.status.finished or self._status_of(record, time.time()) is not TaskStatus.LOST:
            return record
        lost = _finished(record, TaskStatus.LOST, "TaskLost", LOST_MESSAGE)
        store = self._store_for(record)
        if await self._io("finish", store.finish, lost):
            log.info("task lease ran out; recorded LOST", extra=_ids(record))
            return lost
        current = await self._io("get", store.get, record.session_id, record.task_id)
        if current is None:
            raise task_not_found(record.task_id)
        return current

    def _adopt(self, stored: TaskRecord) -> bool:
        """Whether ``stored`` was written by a start of ours that answered an error; if so it is
        taken over (a client-token retry of that start now runs it)."""
        key = (stored.session_id, stored.task_id)
        mine = self._unconfirmed.get(key)
        if mine is None or mine.start_id != stored.start_id or stored.status.finished:
            return False
        del self._unconfirmed[key]
        return True

    async def _settle_unconfirmed(self, record: TaskRecord) -> None:
        """After a create that failed from our side: once storage answers, a record our start
        wrote (and nobody adopted) is closed as FAILED, so it never reads RUNNING unrun."""
        key = (record.session_id, record.task_id)
        store = self._store_for(record)
        delay = self._settings.retry_base_seconds
        while self._unconfirmed.get(key) is record:
            try:
                stored = await self._io("get", store.get, record.session_id, record.task_id)
            except StoreUnavailableError:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._settings.heartbeat_seconds)
                continue
            if self._unconfirmed.get(key) is not record:
                return  # adopted by a retry meanwhile
            del self._unconfirmed[key]
            if stored is None or stored.start_id != record.start_id or stored.status.finished:
                return
            failed = _finished(
                stored,
                TaskStatus.FAILED,
                "StartFailed",
                "its start answered StorageUnavailable; start it again",
            )
            with contextlib.suppress(StoreUnavailableError):
                await self._io("finish", store.finish, failed)
            log.info("unconfirmed start closed", extra=_ids(record))

    def _remember_ephemeral(self, record: TaskRecord) -> None:
        now = time.time()
        if len(self._ephemeral) >= 1024:
            self._ephemeral = {k: exp for k, exp in self._ephemeral.items() if exp >= now}
        self._ephemeral[(record.session_id, record.task_id)] = record.expires_at

    def _is_ephemeral(self, key: Key) -> bool:
        return self._ephemeral.get(key, 0) >= time.time()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _view(self, record: TaskRecord, status: TaskStatus) -> dict[str, Any]:
        view = _summary(record, status)
        if record.result is not None:
            view["result"] = record.result
        elif record.result_key is not None and self._stores.blobs is not None:
            blobs = self._stores.blobs
            size = record.result_size or 0
            if size > self._settings.presign_threshold_bytes:
                expiry = self._settings.presign_expiry_seconds
                view["result_url"] = await self._io("presign", blobs.presign, record.result_key, expiry)
            else:
                data = await self._io("get result", blobs.get, record.result_key)
                view["result"] = data.decode("utf-8")
        if record.error_code is not None:
            view["error"] = {"code": record.error_code, "message": record.error_message or ""}
        return view

    def _launch(self, record: TaskRecord) -> None:
        key = (record.session_id, record.task_id)
        if key in self._running:
            return
        task = asyncio.get_running_loop().create_task(self._run(record), name=f"task-{record.task_id}")
        self._running[key] = _Running(task=task)

    async def _run(self, record: TaskRecord) -> None:
        key = (record.session_id, record.task_id)
        self._busy.enter()
        started = time.monotonic()
        final: TaskRecord | None = None
        try:
            try:
                await self._work(record)
                final = await self._complete(record)
            except asyncio.CancelledError:
                if not self._running[key].cancel_requested:
                    await self._record_lost(record)  # shutdown (SIGTERM): say so before exiting
                    raise
                final = _finished(record, TaskStatus.CANCELLED, "Cancelled", "cancelled by request")
            except _SupersededError:
                log.info("task record changed elsewhere; stopping", extra=_ids(record))
            except Exception:
                log.exception("task failed", extra=_ids(record))
                final = _finished(record, TaskStatus.FAILED, "TaskFailed", "the task failed")
            if final is not None:
                self._running[key].recording = True
                await self._record_final(final)
                log.info(
                    "task finished",
                    extra={
                        **_ids(final),
                        "status": final.status.value,
                        "elapsed_s": round(time.monotonic() - started, 3),
                    },
                )
        finally:
            self._busy.leave()
            running = self._running.pop(key, None)
            if running is not None:
                running.done.set()

    async def _work(self, record: TaskRecord) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        end = start + record.duration
        store = self._store_for(record)
        # A random first beat spreads the writes of tasks started in one burst over the interval.
        interval = self._settings.heartbeat_seconds * (0.5 + random.random() / 2)
        while (now := loop.time()) < end:
            await asyncio.sleep(min(interval, end - now))
            interval = self._settings.heartbeat_seconds
            if loop.time() >= end:
                break
            progress = round(min(1.0, (loop.time() - start) / record.duration), 4)
            try:
                alive = await self._io(
                    "heartbeat", store.heartbeat, record.session_id, record.task_id, progress, time.time()
                )
            except StoreUnavailableError:
                log.warning("heartbeat not recorded", extra=_ids(record))
                continue
            if not alive:
                raise _SupersededError

    async def _complete(self, record: TaskRecord) -> TaskRecord:
        size = None if record.result_bytes < 0 else record.result_bytes
        text = await asyncio.to_thread(result_text, record.duration, size)
        data = text.encode()
        blobs = self._stores.blobs
        if (
            blobs is not None
            and record.retention == "durable"
            and len(data) > self._settings.s3_threshold_bytes
        ):
            key = self._stores.blob_key(record) if self._stores.blob_key else record.task_id
            try:
                await self._io_until_stored("put result", blobs.put, key, data)
            except Exception:
                log.exception("result could not be stored", extra=_ids(record))
                return _finished(
                    record, TaskStatus.FAILED, "ResultStoreFailed", "the result could not be stored"
                )
            return _finished(record, TaskStatus.COMPLETED, None, None, result_key=key, result_size=len(data))
        return _finished(record, TaskStatus.COMPLETED, None, None, result=text, result_size=len(data))

    async def _record_lost(self, record: TaskRecord) -> None:
        """Store LOST now, with the usual bounded retries: the runtime's grace period is short, and
        a task whose mark cannot be written still reads LOST once its lease runs out."""
        lost = _finished(record, TaskStatus.LOST, "TaskLost", "the agent stopped before the task finished")
        try:
            await self._io("finish", self._store_for(record).finish, lost)
        except Exception:
            log.warning("task left RUNNING at shutdown; it reads LOST after the lease", extra=_ids(record))

    async def _record_final(self, final: TaskRecord) -> None:
        store = self._store_for(final)
        try:
            if not await self._io_until_stored("finish", store.finish, final):
                log.warning("record changed elsewhere; outcome not recorded", extra=_ids(final))
        except Exception:
            if final.status is not TaskStatus.COMPLETED:
                log.exception("final state not recorded", extra=_ids(final))
                return
            log.exception("result could not be recorded", extra=_ids(final))
            failed = _finished(
                final, TaskStatus.FAILED, "ResultStoreFailed", "the result could not be stored"
            )
            try:
                await self._io("finish", store.finish, failed)
            except Exception:
                log.exception("final state not recorded", extra=_ids(final))


def _finished(
    record: TaskRecord, status: TaskStatus, code: str | None, message: str | None, **fields: Any
) -> TaskRecord:
    now = time.time()
    progress = 1.0 if status is TaskStatus.COMPLETED else record.progress
    values: dict[str, Any] = {"result": None, "result_key": None, "result_size": None, **fields}
    return record.replace(
        status=status, updated_at=now, progress=progress, error_code=code, error_message=message, **values
    )


def _ids(record: TaskRecord) -> dict[str, Any]:
    return {"session_id": record.session_id, "task_id": record.task_id}


def _summary(record: TaskRecord, status: TaskStatus) -> dict[str, Any]:
    return {
        "task_id": record.task_id,
        "status": status.value,
        "progress": record.progress,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "retention": record.retention,
    }
