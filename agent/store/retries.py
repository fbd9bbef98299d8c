"""The one retry layer: how the drivers retry a storage call before the engine sees a failure.

Worst case per store operation (``AGENT_WRITE_ATTEMPTS`` = n, default 4):

* DynamoDB and S3: n HTTP calls (botocore's standard mode: throttling, 5xx and connection errors,
  with exponential backoff and jitter of at most 1, 2, 4 … s); each call may wait up to
  ``CONNECT_TIMEOUT_SECONDS`` to connect and its read timeout to answer.
* Redis: n commands (redis-py's ``Retry`` on connection errors, timeouts, OOM and READONLY, with exponential
  backoff and jitter from ``AGENT_RETRY_BASE_SECONDS``, capped at ``REDIS_BACKOFF_CAP_SECONDS``).
* SQLite: one statement, which waits up to ``SQLITE_BUSY_SECONDS`` for a lock.

Then the caller gets ``StorageUnavailable`` (and a finished task holds its result and retries).
Every retry a driver makes is counted as a ``StoreRetries`` metric point.
"""

from __future__ import annotations

from typing import Any, Final

from botocore.config import Config
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError as RedisOutOfMemoryError
from redis.exceptions import ReadOnlyError as RedisReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from agent import metrics

CONNECT_TIMEOUT_SECONDS: Final = 3
REDIS_BACKOFF_CAP_SECONDS: Final = 2.0
REDIS_SOCKET_TIMEOUT_SECONDS: Final = 5
CACHE_SOCKET_TIMEOUT_SECONDS: Final = 0.2
"""The result cache's own connections: a cache that takes longer than this is a miss."""
SQLITE_BUSY_SECONDS: Final = 10


def aws_config(*, attempts: int, max_connections: int, read_timeout: float, **extra: Any) -> Config:
    """botocore's client config: standard retries, ``attempts`` calls in all, short connect timeout."""
    return Config(
        max_pool_connections=max_connections,
        retries={"mode": "standard", "total_max_attempts": attempts},
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=read_timeout,
        **extra,
    )


def counting_retries(client: Any, store: str) -> Any:
    """``client`` (a botocore client), counting each retry it makes: botocore builds a new request
    for every attempt and numbers it in the request context."""

    def on_request(request: Any, **_: Any) -> None:
        if request.context.get("retries", {}).get("attempt", 1) > 1:
            metrics.store_retry(store)

    client.meta.events.register("request-created", on_request)
    return client


class CountingRetry(Retry):
    """redis-py's ``Retry``, counting each retry it makes."""

    def call_with_retry(
        self, do: Any, fail: Any, is_retryable: Any = None, with_failure_count: bool = False
    ) -> Any:
        """Run ``do`` as redis-py does; a failure that is followed by another try is a retry."""
        failures = 0

        def counted(error: Exception, *count: int) -> Any:
            nonlocal failures
            failures += 1
            retries = self.get_retries()
            if retries < 0 or failures <= retries:
                metrics.store_retry("redis")
            return fail(error, *count)

        return super().call_with_retry(do, counted, is_retryable, with_failure_count)


def redis_retry(*, attempts: int, base_seconds: float) -> Retry:
    """redis-py's retry: ``attempts`` tries in all on connection errors, timeouts and refused writes
    (OOM, READONLY). redis-py reconnects before each retry, which is what reaches the new primary
    once a failover has moved the endpoint."""
    return CountingRetry(
        ExponentialWithJitterBackoff(base=base_seconds, cap=REDIS_BACKOFF_CAP_SECONDS),
        retries=attempts - 1,
        supported_errors=(RedisConnectionError, RedisTimeoutError, RedisOutOfMemoryError, RedisReadOnlyError),
    )
