"""Each task store against its real server, and a way to write a record into it behind its back.

``plant`` stores raw fields the way the backend itself would, without going through the store's
own code: how the tests put a record a newer version wrote (or a hand-damaged one) in place.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import boto3
import pytest
import redis
from boto3.dynamodb.types import TypeSerializer

from agent.store.base import TaskStore
from agent.store.dynamodb import DynamoStore
from agent.store.memory import MemoryStore
from agent.store.redis_store import RedisStore, index_key, task_key
from agent.store.sqlite import SqliteStore
from agentcore_async.contract import TableSchema
from tests.agent.aws import create_resources
from tests.support.servers import MotoServer, RedisServer

BACKENDS: Final = ("memory", "sqlite", "dynamodb", "redis")

Plant = Callable[[dict[str, Any]], None]
"""Store a record's raw fields (``session_id`` and ``task_id`` among them) as the backend would."""


@dataclass(frozen=True)
class StoreBackend:
    """One backend under test: its store, and how to plant raw records in it."""

    name: str
    store: TaskStore
    plant: Plant


@contextmanager
def open_backend(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreBackend]:
    """The store ``name`` on a fresh table / file / index (servers are the session's), closed after."""
    backend: StoreBackend
    if name == "memory":
        backend = StoreBackend(name, MemoryStore(), _cannot_plant)
    elif name == "sqlite":
        path = tmp_path / "tasks.sqlite3"
        backend = StoreBackend(name, SqliteStore(path), lambda fields: _plant_sqlite(path, fields))
    elif name == "dynamodb":
        backend = _dynamodb(request.getfixturevalue("moto_server"))
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        backend = StoreBackend(
            name, RedisStore(server.url, ttl_seconds=3600), lambda fields: _plant_redis(server, fields)
        )
    try:
        yield backend
    finally:
        backend.store.close()


def _cannot_plant(fields: dict[str, Any]) -> None:
    pytest.skip("the memory store holds records as objects: none can be unreadable")


def _plant_sqlite(path: Path, fields: dict[str, Any]) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "INSERT OR REPLACE INTO tasks (session_id, task_id, status, created_at, record)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                fields["session_id"],
                fields["task_id"],
                str(fields["status"]),
                fields["created_at"],
                json.dumps(fields),
            ),
        )


def _dynamodb(moto: MotoServer) -> StoreBackend:
    aws = create_resources(moto)
    with pytest.MonkeyPatch.context() as env:  # the store's client reads the endpoint when made
        env.setenv("AWS_ENDPOINT_URL", moto.url)
        store = DynamoStore(aws.table)
    client = boto3.client("dynamodb", endpoint_url=moto.url)
    serializer = TypeSerializer()

    def plant(fields: dict[str, Any]) -> None:
        plain = {
            k: Decimal(repr(v)) if isinstance(v, float) else v
            for k, v in fields.items()
            if v is not None and v != []
        }
        if fields.get("status") in ("RUNNING", "SUSPENDED") or fields.get("announce_pending"):
            plain[TableSchema.OPEN_ATTRIBUTE] = fields["task_id"]  # as the store marks open records
        client.put_item(TableName=aws.table, Item={k: serializer.serialize(v) for k, v in plain.items()})

    return StoreBackend("dynamodb", store, plant)


def _plant_redis(server: RedisServer, fields: dict[str, Any]) -> None:
    session_id, task_id = fields["session_id"], fields["task_id"]
    client = redis.Redis.from_url(server.url, decode_responses=True)
    try:
        key = task_key(session_id, task_id)
        client.hset(
            key,
            mapping={
                "status": str(fields["status"]),
                "attempt": str(fields["attempt"]),
                "record": json.dumps(fields),
            },
        )
        client.expire(key, 3600)
        client.zadd(index_key(session_id), {task_id: fields["created_at"]})
    finally:
        client.close()
