"""Reading stored records one at a time, so one this version cannot read spoils only itself.

A record written by a newer version (a status this one does not know) or damaged by hand (a field
of the wrong type) reads as an ``UNREADABLE`` stand-in that keeps its ids, owner, times and expiry:
listings show it, a poll of it answers ``RecordUnreadable``, and the session's other tasks are
read, listed and resumed as usual. The stand-in is never written back, so a version that can read
the record still finds it untouched. Each one is logged once per process, by id, never by content.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import threading
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from agent.records import TaskRecord, TaskStatus

log = logging.getLogger("agent.store")
LOGGED_LIMIT: Final = 4096
"""How many unreadable records a process remembers having logged (then it starts afresh)."""
_logged: set[tuple[str, str]] = set()
_logged_lock = threading.Lock()


def record_from_json(session_id: str, task_id: str, text: str) -> TaskRecord:
    """The record stored as JSON ``text``, or its ``UNREADABLE`` stand-in."""
    try:
        item = json.loads(text)
    except ValueError:
        item = None
    if not isinstance(item, dict):
        return _unreadable(session_id, task_id, {})
    return record_from_item(session_id, task_id, item)


def record_from_item(session_id: str, task_id: str, item: Mapping[str, Any]) -> TaskRecord:
    """The record of ``item`` (its fields as plain values), or its ``UNREADABLE`` stand-in."""
    try:
        return TaskRecord.from_item({**item, "session_id": session_id, "task_id": task_id})
    except (KeyError, ValueError, TypeError, ArithmeticError):
        return _unreadable(session_id, task_id, item)


def _unreadable(session_id: str, task_id: str, item: Mapping[str, Any]) -> TaskRecord:
    _log_once(session_id, task_id)
    owner, kind, retention = item.get("owner"), item.get("kind"), item.get("retention")
    return TaskRecord(
        session_id=session_id,
        task_id=task_id,
        status=TaskStatus.UNREADABLE,
        kind=kind if isinstance(kind, str) else "",
        input_json="{}",
        created_at=_number(item.get("created_at"), 0.0),
        updated_at=_number(item.get("updated_at"), 0.0),
        heartbeat_at=_number(item.get("heartbeat_at"), 0.0),
        # Kept until its own expiry; without a readable one, until the store's TTL removes it.
        expires_at=int(_number(item.get("expires_at"), sys.maxsize)),
        attempt=int(_number(item.get("attempt"), 0)),
        retention="ephemeral" if retention == "ephemeral" else "durable",
        owner=owner if isinstance(owner, str) else None,
    )


def _number(value: Any, default: float) -> float:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return default


def _log_once(session_id: str, task_id: str) -> None:
    with _logged_lock:
        if (session_id, task_id) in _logged:
            return
        if len(_logged) >= LOGGED_LIMIT:
            _logged.clear()
        _logged.add((session_id, task_id))
    log.warning("unreadable task record left as it is", extra={"session_id": session_id, "task_id": task_id})
