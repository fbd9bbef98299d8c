"""Retry with exponential backoff for transient storage errors (throttling, lost connections)."""

from __future__ import annotations

import logging
import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import botocore.exceptions
import redis

from agent.errors import StoreUnavailableError

T = TypeVar("T")
log = logging.getLogger("agent.store")

_TRANSIENT_AWS_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "SlowDown",
        "RequestTimeout",
        "InternalError",
        "TransactionConflictException",
    }
)
_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectionClosedError,
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.ConnectTimeoutError,
    redis.ConnectionError,
    redis.TimeoutError,
    sqlite3.OperationalError,
    ConnectionError,
    TimeoutError,
)


def is_transient(exc: BaseException) -> bool:
    """True for errors worth retrying: throttling, 5xx and connection failures."""
    if isinstance(exc, _TRANSIENT_TYPES):
        return True
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error.get("Code") in _TRANSIENT_AWS_CODES or int(status) >= 500
    return False


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a storage call."""

    attempts: int = 4
    base_seconds: float = 0.1
    max_seconds: float = 5.0

    def call(self, what: str, func: Callable[[], T]) -> T:
        """Run ``func``; retry transient failures with jittered backoff.

        Any failure that remains (retries exhausted, or not worth retrying such as a missing
        table) is logged and raised as :class:`StoreUnavailableError`, never as driver text.
        """
        for attempt in range(1, self.attempts + 1):
            try:
                return func()
            except StoreUnavailableError:
                raise
            except Exception as exc:
                if not is_transient(exc) or attempt == self.attempts:
                    log.error(
                        "storage call failed",
                        extra={"operation": what, "attempts": attempt, "error_type": type(exc).__name__},
                        exc_info=not is_transient(exc),
                    )
                    raise StoreUnavailableError(what) from exc
                delay = min(self.max_seconds, self.base_seconds * 2 ** (attempt - 1))
                log.warning(
                    "storage call failed; retrying",
                    extra={"operation": what, "attempt": attempt, "error_type": type(exc).__name__},
                )
                time.sleep(delay * (0.5 + random.random() / 2))
        raise AssertionError("unreachable")  # pragma: no cover
