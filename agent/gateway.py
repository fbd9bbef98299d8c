"""The engine's one way to its stores: every call off the event loop in a bounded I/O pool, held
through a storage outage where work is at stake, and routed to the store a record belongs in
(durable or ephemeral; the bucket for large payloads; the result cache for finished reads)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Literal, TypeVar

from agent import metrics, telemetry
from agent.clock import Clock
from agent.errors import StoreUnavailableError, record_unreadable, task_not_found
from agent.records import TaskRecord, TaskStatus
from agent.settings import Settings
from agent.store.base import BlobStore, Cursor, Stores, TaskStore, live
from agent.store.failures import is_transient, missing_object, unavailable
from agent.store.guarded_cache import GuardedCache

T = TypeVar("T")
log = logging.getLogger("agent.engine")
Refusal = Callable[[Exception], Exception | None]
"""Turns a failure that is the caller's own (a missing object) into its error; None otherwise."""

EPHEMERAL_LIST_SECONDS = 0.5
"""How long a listing waits for the ephemeral store (Redis) before listing without it: durable
tasks must not wait for a hung Redis."""


class StoreGateway:
    """Owns the I/O pool and the stores; the rest of the engine never calls a store directly."""

    def __init__(self, settings: Settings, stores: Stores, clock: Clock) -> None:
        self._settings = settings
        self._stores = stores
        self._clock = clock
        self.cache = GuardedCache(stores.cache) if stores.cache is not None else None
        self._pool = ThreadPoolExecutor(max_workers=settings.io_threads, thread_name_prefix="agent-io")

    @property
    def blobs(self) -> BlobStore | None:
        """The bucket, when one is configured."""
        return self._stores.blobs

    @property
    def has_ephemeral(self) -> bool:
        """Whether ephemeral (Redis) tasks can be stored."""
        return self._stores.ephemeral is not None

    def task_stores(self) -> tuple[TaskStore, ...]:
        """The durable store, then the ephemeral one when configured."""
        ephemeral = self._stores.ephemeral
        return (self._stores.tasks,) if ephemeral is None else (self._stores.tasks, ephemeral)

    def ephemeral_failing(self, store: TaskStore) -> bool:
        """Whether ``store`` is Redis and the result cache (on the same server) finds it failing."""
        return store is self._stores.ephemeral and self.cache is not None and self.cache.failing

    def store_for(self, record: TaskRecord) -> TaskStore:
        """The store ``record`` lives in."""
        if record.retention == "ephemeral" and self._stores.ephemeral is not None:
            return self._stores.ephemeral
        return self._stores.tasks

    # ---- calls ---------------------------------------------------------------------------

    async def io(self, what: str, func: Callable[..., T], *args: Any, refused: Refusal | None = None) -> T:
        """One storage call off the event loop; the driver has retried it, a failure is classified:
        ``refused`` turns a failure that is the caller's own (a missing object) into its error."""
        with telemetry.store_span(what):
            try:
                return await self._in_pool(func, *args)
            except StoreUnavailableError:
                metrics.store_failure(what)
                raise
            except Exception as exc:
                if refused is not None and (error := refused(exc)) is not None:
                    raise error from None
                metrics.store_failure(what)
                raise unavailable(what, exc) from exc

    async def _in_pool(self, func: Callable[..., T], *args: Any) -> T:
        """``func`` in the I/O pool, in this context: a driver's own spans and log lines belong
        to the store call that made them."""
        call = partial(contextvars.copy_context().run, func, *args)
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    async def io_until_stored(
        self, what: str, func: Callable[..., T], *args: Any, refused: Refusal | None = None
    ) -> T:
        """:meth:`io`, holding on through a storage outage (see :meth:`until_stored`)."""
        return await self.until_stored(what, partial(self.io, what, func, *args, refused=refused))

    async def until_stored(self, what: str, write: Callable[[], Awaitable[T]]) -> T:
        """Holds finished work through a storage outage: repeats ``write`` while its failure is
        transient. The task stays running in this process meanwhile, so it reads RUNNING here and
        /ping stays HealthyBusy (keeping the microVM and the finished result alive) until storage
        returns or the process stops."""
        delay = self._settings.retry_base_seconds
        while True:
            try:
                return await write()
            except StoreUnavailableError as exc:
                if exc.__cause__ is None or not is_transient(exc.__cause__):
                    raise
            log.warning("storage unavailable; holding the work and retrying", extra={"operation": what})
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._settings.heartbeat_seconds)

    # ---- reads ---------------------------------------------------------------------------

    async def read(self, session_id: str, task_id: str, owner: str | None) -> TaskRecord:
        """The task for a caller: another owner's task (or an owned one, to a caller without an
        owner) is ``TaskNotFound``, exactly like a task that does not exist."""
        cached = await self._cached(session_id, task_id)
        if cached is not None:
            if cached.owner != owner:
                raise task_not_found(task_id)
            return cached
        record = await self.io("get", self._stores.tasks.get, session_id, task_id)
        if record is None and self._stores.ephemeral is not None:
            # Not durable; with Redis down nobody can tell whether it is an ephemeral task (another
            # microVM may have started it), so the answer is "retry", never a final TaskNotFound.
            record = await self.io("get", self._stores.ephemeral.get, session_id, task_id)
        if record is None or record.expires_at < self._clock.now() or record.owner != owner:
            raise task_not_found(task_id)
        if record.status is TaskStatus.UNREADABLE:
            raise record_unreadable(task_id)
        if self.cache is not None and record.status.finished and record.retention == "durable":
            # Announcements are sent from store reads only: a cached copy would owe them forever.
            await self.cache.put(record.replace(announce_pending=()))
        return record

    async def _cached(self, session_id: str, task_id: str) -> TaskRecord | None:
        """The finished record from the result cache, or None (also when the cache is down, and when
        the cached record has expired: its id may name a newer task by now)."""
        if self.cache is None:
            return None
        cached = await self.cache.get(session_id, task_id)
        return cached if cached is not None and live(cached, self._clock.now()) else None

    async def reread(self, record: TaskRecord) -> TaskRecord:
        """``record`` as stored now (after a conditional write of ours lost)."""
        current = await self.io("get", self.store_for(record).get, record.session_id, record.task_id)
        if current is None:
            raise task_not_found(record.task_id)
        return current

    async def listing(
        self, session_id: str, limit: int, cursor: Cursor | None, now: float, owner: str | None
    ) -> tuple[list[TaskRecord], bool]:
        """Up to ``limit`` records of each task store, and whether the ephemeral one answered."""
        records = await self.io("list", self._stores.tasks.list, session_id, limit, cursor, now, owner)
        ephemeral = self._stores.ephemeral
        if ephemeral is None:
            return records, True
        found = await self._ephemeral_list(ephemeral, session_id, limit, cursor=cursor, now=now, owner=owner)
        return records + list(found or ()), found is not None

    async def _ephemeral_list(
        self,
        store: TaskStore,
        session_id: str,
        limit: int,
        *,
        cursor: Cursor | None,
        now: float,
        owner: str | None,
    ) -> Sequence[TaskRecord] | None:
        """The ephemeral store's page, or None when Redis is unavailable, known to be failing (the
        result cache shares it) or slower than :data:`EPHEMERAL_LIST_SECONDS`."""
        if self.cache is not None and self.cache.failing:
            return None
        listing = self.io("list", store.list, session_id, limit, cursor, now, owner)
        try:
            return await asyncio.wait_for(listing, timeout=EPHEMERAL_LIST_SECONDS)
        except TimeoutError:
            if self.cache is not None:
                self.cache.server_failed()
            return None
        except StoreUnavailableError:
            return None

    # ---- payloads (results and checkpoints) ----------------------------------------------

    def _payload_key(
        self, record: TaskRecord, name: Literal["result", "checkpoint"], size: int
    ) -> str | None:
        """Where a payload of ``record`` goes, one rule for results and checkpoints: a key in the
        bucket when one is configured, the task is durable and the payload is larger than
        ``AGENT_S3_THRESHOLD_BYTES``; None keeps it in the record. A key per attempt (and per
        checkpoint): an older attempt that wakes late and uploads before it loses its next write
        can never replace the object the record names."""
        if self._stores.blobs is None or record.retention != "durable":
            return None
        if size <= self._settings.s3_threshold_bytes:
            return None
        base = self._stores.blob_key(record) if self._stores.blob_key else record.task_id
        key = f"{base}.{name}-{record.attempt}"
        return key if name == "result" else f"{key}-{uuid.uuid4().hex[:8]}"

    async def put_payload(
        self, record: TaskRecord, name: Literal["result", "checkpoint"], data: bytes
    ) -> str | None:
        """Store ``data`` in the bucket when it belongs there (held through an outage: it is work
        done), returning its key; None: it belongs inline in the record."""
        key = self._payload_key(record, name, len(data))
        if key is not None and self._stores.blobs is not None:
            await self.io_until_stored(f"put {name}", self._stores.blobs.put, key, data)
        return key

    async def get_blob(self, what: str, key: str, refused: Refusal, *, hold: bool) -> bytes:
        """The object at ``key`` of the bucket (configured: the caller checked). With ``hold`` the
        read rides out a storage outage like the write that stored it."""
        blobs = self._stores.blobs
        assert blobs is not None
        if hold:
            return await self.io_until_stored(what, blobs.get, key, refused=refused)
        return await self.io(what, blobs.get, key, refused=refused)

    def close(self) -> None:
        """Stop the pool (queued calls are dropped: the stop grace is running) and the cache."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self.cache is not None:
            self.cache.stop()

    def close_stores(self) -> None:
        """Release the stores' connections."""
        self._stores.close()


def if_missing(error: Exception) -> Refusal:
    """A refusal that answers ``error`` when the object is not there (an outage stays an outage)."""
    return lambda exc: error if missing_object(exc) else None
