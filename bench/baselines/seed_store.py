"""The seed's blocking result write and read: one item per finished task, nothing before.

Two backends, chosen from the same environment variables our agent reads, so the baseline writes
to the same SQLite file semantics and the same DynamoDB table (schema from ``agent.settings``).
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any, Protocol

import boto3

from agent.settings import EnvVar, TableSchema


class SeedStore(Protocol):
    """Where the seed's background thread puts its result and the poll reads it."""

    def put(self, session_id: str, task_id: str, result: str) -> None:
        """Store a finished task's result (blocking)."""

    def get(self, session_id: str, task_id: str) -> dict[str, Any] | None:
        """The stored item, or None while the task runs (or when it does not exist)."""


class SqliteSeedStore:
    """One row per finished task in a SQLite file; each call opens, writes/reads and closes."""

    def __init__(self, path: Path) -> None:
        self._path = path
        with closing(self._connect()) as conn, conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS seed_results (session_id TEXT, task_id TEXT, result TEXT,"
                " updated_at REAL, PRIMARY KEY (session_id, task_id))"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._path, timeout=30)

    def put(self, session_id: str, task_id: str, result: str) -> None:
        with closing(self._connect()) as conn, conn:
            conn.execute(
                "INSERT OR REPLACE INTO seed_results VALUES (?, ?, ?, ?)",
                (session_id, task_id, result, time.time()),
            )

    def get(self, session_id: str, task_id: str) -> dict[str, Any] | None:
        with closing(self._connect()) as conn:
            row = conn.execute(
                "SELECT result, updated_at FROM seed_results WHERE session_id = ? AND task_id = ?",
                (session_id, task_id),
            ).fetchone()
        return None if row is None else {"result": row[0], "updated_at": row[1]}


class DynamoSeedStore:
    """``put_item``/``get_item`` on the task table, exactly the seed's two calls."""

    def __init__(self, table_name: str) -> None:
        self._table = boto3.resource("dynamodb").Table(table_name)

    def put(self, session_id: str, task_id: str, result: str) -> None:
        self._table.put_item(
            Item={
                TableSchema.PARTITION_KEY: session_id,
                TableSchema.SORT_KEY: task_id,
                "result": result,
                "updated_at": str(time.time()),
            }
        )

    def get(self, session_id: str, task_id: str) -> dict[str, Any] | None:
        item = self._table.get_item(
            Key={TableSchema.PARTITION_KEY: session_id, TableSchema.SORT_KEY: task_id}
        ).get("Item")
        if item is None:
            return None
        return {"result": str(item["result"]), "updated_at": float(item["updated_at"])}


def store_from_env() -> SeedStore:
    """DynamoDB when a table name is set, else the SQLite file (default ``seed-results.db``)."""
    table = os.environ.get(EnvVar.TABLE_NAME)
    backend = os.environ.get(EnvVar.STORE_BACKEND, "dynamodb" if table else "sqlite")
    if backend == "dynamodb":
        if not table:
            raise SystemExit(f"{EnvVar.TABLE_NAME} is required for the dynamodb backend")
        return DynamoSeedStore(table)
    if backend == "sqlite":
        return SqliteSeedStore(Path(os.environ.get(EnvVar.SQLITE_PATH, "seed-results.db")))
    raise SystemExit(f"{EnvVar.STORE_BACKEND} must be sqlite or dynamodb for the seed baseline: {backend!r}")
