"""What a failed storage call means. Retrying is the drivers' job (botocore's retry config, redis-py's
``Retry``, SQLite's busy timeout); here a failure is only classified for the engine."""

from __future__ import annotations

import logging
import sqlite3

import botocore.exceptions
import redis

from agent.errors import StoreUnavailableError

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
    redis.exceptions.OutOfMemoryError,  # full under noeviction: writes return once memory frees
    redis.exceptions.ReadOnlyError,  # a replica after a failover: writes return on the new primary
    sqlite3.OperationalError,
    ConnectionError,
    TimeoutError,
)


def is_transient(exc: BaseException) -> bool:
    """True for failures that may pass: throttling, 5xx, lost connections, a locked database, a Redis
    that refuses writes for now (full, or a read-only replica)."""
    if isinstance(exc, _TRANSIENT_TYPES):
        return True
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error.get("Code") in _TRANSIENT_AWS_CODES or int(status) >= 500
    return False


def unavailable(what: str, exc: Exception) -> StoreUnavailableError:
    """The error the engine raises for a storage call that failed after the driver's retries.

    It is logged here once, as type and operation (never driver text, which may carry keys or
    endpoints); unexpected failures get their stack trace.
    """
    log.error(
        "storage call failed",
        extra={"operation": what, "error_type": type(exc).__name__},
        exc_info=not is_transient(exc),
    )
    error = StoreUnavailableError(what)
    error.__cause__ = exc
    return error


_MISSING_OBJECT_CODES = frozenset({"NoSuchKey", "NotFound", "404"})
"""S3's answers for a key that is not there, where the role may list the prefix (``results/``)."""
_REFUSED_OBJECT_CODES = _MISSING_OBJECT_CODES | {"AccessDenied", "403"}
"""S3's answers for a key that is not there. Without ``s3:ListBucket`` on the prefix (the runtime
role has none on ``inputs/``) S3 answers a missing key with AccessDenied, not NoSuchKey."""


def error_code(exc: BaseException) -> str | None:
    """An AWS client error's code (None for any other failure)."""
    if not isinstance(exc, botocore.exceptions.ClientError):
        return None
    return str(exc.response.get("Error", {}).get("Code", ""))


def refused_object(exc: BaseException) -> bool:
    """True when S3 refused the key itself (missing or forbidden), not when it failed to answer."""
    return error_code(exc) in _REFUSED_OBJECT_CODES


def missing_object(exc: BaseException) -> bool:
    """True when S3 answered that the key is not there (deleted, or expired by a lifecycle rule)."""
    return error_code(exc) in _MISSING_OBJECT_CODES
