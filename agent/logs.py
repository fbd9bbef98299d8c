"""Structured logging: one JSON object per line on stderr, carrying the ids bound to the context
and, inside a span, its trace and span ids."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from opentelemetry import trace

_NOTHING: Mapping[str, Any] = MappingProxyType({})
_bound: ContextVar[Mapping[str, Any]] = ContextVar("agent_log_fields", default=_NOTHING)


def bind(**fields: Any) -> None:
    """Add ``fields`` to every log line of the current context (an asyncio task keeps its own copy)."""
    _bound.set({**_bound.get(), **fields})


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """:func:`bind` for the duration of a block (a request)."""
    token = _bound.set({**_bound.get(), **fields})
    try:
        yield
    finally:
        _bound.reset(token)


_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    """Formats a record as JSON with its ``extra`` fields (session_id, task_id, timings...)."""

    def format(self, record: logging.LogRecord) -> str:
        """One JSON line; exception details only as type and trace, never mixed into the message."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_bound.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        span = trace.get_current_span().get_span_context()
        if span.is_valid:  # the line belongs to this span of this trace (see agent.telemetry)
            entry["trace_id"] = format(span.trace_id, "032x")
            entry["span_id"] = format(span.span_id, "016x")
        if record.exc_info and record.exc_info[0] is not None:
            entry["error_type"] = record.exc_info[0].__name__
            entry["stack"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, separators=(",", ":"))


def configure_logging(level: str) -> None:
    """Send every logger (ours, the SDK's, uvicorn's) through one JSON handler."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The SDK installs its own non-JSON handler unless one is present; route it to ours instead.
    sdk = logging.getLogger("bedrock_agentcore.app")
    sdk.handlers[:] = [handler]
    sdk.propagate = False
    sdk.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    for noisy in ("botocore", "boto3", "urllib3", "strands"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
