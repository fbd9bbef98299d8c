"""The result cache, made to cost no more than a miss when it is slow, hung or down.

Its calls run on a few threads of their own (never the storage pool that starts and polls share),
each within a short time budget, and are skipped altogether while the cache keeps failing.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Final, TypeVar

from agent import telemetry
from agent.records import TaskRecord
from agent.store.base import ResultCache
from agent.store.breaker import Breaker

T = TypeVar("T")
log = logging.getLogger("agent.cache")

CACHE_THREADS: Final = 4
CACHE_BUDGET_SECONDS: Final = 0.25
"""The longest a request waits for the cache before treating it as a miss."""


class GuardedCache:
    """A :class:`ResultCache` whose failures (errors, time-outs, skips) all read as misses."""

    def __init__(
        self,
        cache: ResultCache,
        *,
        budget_seconds: float = CACHE_BUDGET_SECONDS,
        breaker: Breaker | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cache = cache
        self._budget = budget_seconds
        self._breaker = breaker or Breaker()
        self._clock = clock
        self._pool = ThreadPoolExecutor(max_workers=CACHE_THREADS, thread_name_prefix="agent-cache")

    @property
    def failing(self) -> bool:
        """Whether the cache's server is being skipped as failing (the ephemeral store shares it)."""
        return not self._breaker.allows(self._clock())

    async def get(self, session_id: str, task_id: str) -> TaskRecord | None:
        """The cached finished record, or None (a miss, or the cache failing)."""
        return await self._call("cache get", self._cache.get, session_id, task_id)

    async def put(self, record: TaskRecord) -> None:
        """Cache a finished record, if the cache answers in time."""
        await self._call("cache put", self._cache.put, record)

    async def _call(self, what: str, func: Callable[..., T], *args: object) -> T | None:
        if not self._breaker.allows(self._clock()):
            return None
        call = partial(contextvars.copy_context().run, func, *args)
        with telemetry.store_span(what):
            try:
                future = asyncio.get_running_loop().run_in_executor(self._pool, call)
                result = await asyncio.wait_for(future, timeout=self._budget)
            except Exception as exc:
                self._breaker.failed(self._clock())
                log.warning(
                    "result cache unavailable", extra={"operation": what, "error_type": type(exc).__name__}
                )
                return None
        self._breaker.succeeded()
        return result

    def server_failed(self) -> None:
        """Another client of the cache's server (the ephemeral store) found it failing."""
        self._breaker.failed(self._clock())

    def stop(self) -> None:
        """Stop the cache's threads (a hung call is left to its socket timeout); the cache's client
        is closed with the other stores."""
        self._pool.shutdown(wait=False, cancel_futures=True)
