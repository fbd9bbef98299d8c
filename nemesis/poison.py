"""Records a newer version of the agent could leave behind: one the running version cannot read.

A rollback, or two versions serving one table during a deploy, puts such records next to the
ones a version understands; they must not break the rest of the session.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from agentcore_async.contract import TableSchema
from bench.environment import local_client

UNKNOWN_STATUS = "ARCHIVED"
"""A status no version of the agent knows (yet)."""


def unreadable_record(session_id: str) -> dict[str, Any]:
    """A task record as every store keeps it, but with a status from a newer version."""
    now = time.time()
    return {
        "session_id": session_id,
        "task_id": str(uuid.uuid4()),
        "status": UNKNOWN_STATUS,
        "kind": "tally",
        "input_json": json.dumps({"items": [1], "pause": 0.1, "pad": 0, "label": ""}),
        "created_at": now,
        "updated_at": now,
        "heartbeat_at": now,
        "expires_at": int(now + 86400),
        "attempt": 1,
        "progress": 0.0,
        "retention": "durable",
    }


def poison_sqlite(path: Path, session_id: str) -> str:
    """Write one unreadable record into the SQLite store at ``path``; returns its task id."""
    record = unreadable_record(session_id)
    with sqlite3.connect(path, timeout=10) as conn:
        conn.execute(
            "INSERT INTO tasks (session_id, task_id, status, created_at, record) VALUES (?, ?, ?, ?, ?)",
            (session_id, record["task_id"], UNKNOWN_STATUS, record["created_at"], json.dumps(record)),
        )
    return str(record["task_id"])


def poison_dynamodb(url: str, table: str, session_id: str) -> str:
    """Write one unreadable record into the DynamoDB table behind ``url``; returns its task id."""
    record = unreadable_record(session_id)
    serializer = TypeSerializer()
    item = {
        name: serializer.serialize(Decimal(repr(value)) if isinstance(value, float) else value)
        for name, value in record.items()
    }
    assert TableSchema.PARTITION_KEY in item and TableSchema.SORT_KEY in item
    client = local_client("dynamodb", url)
    client.put_item(TableName=table, Item=item)
    return str(record["task_id"])
