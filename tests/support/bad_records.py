"""Records this version of the agent cannot read, written straight into a SQLite task store."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from agentcore_async.contract import SQLITE_RECORD_QUERY


def plant_sqlite_copy(path: Path, session: str, template: str, task_id: str, changes: dict[str, Any]) -> None:
    """Store a copy of (``session``, ``template``)'s record as ``task_id``, with ``changes`` applied."""
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        (text,) = db.execute(SQLITE_RECORD_QUERY, (session, template)).fetchone()
        record = {**json.loads(text), "task_id": task_id, **changes}
        db.execute(
            "INSERT INTO tasks (session_id, task_id, status, created_at, record) VALUES (?, ?, ?, ?, ?)",
            (session, task_id, record["status"], record["created_at"], json.dumps(record)),
        )
