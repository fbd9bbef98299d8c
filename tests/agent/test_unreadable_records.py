"""One record this version cannot read (a status from a newer version, a mistyped field) is isolated:
the session's listing shows it as ``UNREADABLE``, a poll of it answers ``RecordUnreadable``, the other
suspended tasks still resume, and it is logged once by id, never by content. On SQLite, DynamoDB
(moto server) and Redis (ephemeral tasks), each bad record written straight into the store.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Final

import pytest
import redis

from tests.agent.aws import create_resources
from tests.agent.helpers import eventually, get_task, new_session, start_task
from tests.support.agent_process import FAST_TIMERS, running_agent
from tests.support.bad_records import plant_sqlite_copy
from tests.support.servers import MotoServer, RedisServer

SECRET: Final = "do-not-log-this-content"
"""Carried by the bad records: it must never reach a log line."""
NEWER_STATUS: Final = {"status": "PAUSED", "message": SECRET}
MISTYPED: Final = {"status": "SUSPENDED", "attempt": "two", "message": SECRET}
"""Suspended, so a new process tries to resume it with the session's other suspended tasks."""

Plant = Callable[[str, str, str, dict[str, Any]], None]
"""Write a copy of (session, task)'s record under another task id, with some fields changed."""


@dataclass(frozen=True)
class Backend:
    env: dict[str, str]
    fields: dict[str, str]
    plant: Plant


def _sqlite(path: Path) -> Backend:
    return Backend({"AGENT_SQLITE_PATH": str(path)}, {}, partial(plant_sqlite_copy, path))


def _dynamodb(moto: MotoServer) -> Backend:
    aws = create_resources(moto)

    def plant(session: str, template: str, task_id: str, changes: dict[str, Any]) -> None:
        item = aws.item(session, template)
        assert item is not None
        item = {**item, "task_id": {"S": task_id}} | {name: {"S": value} for name, value in changes.items()}
        aws.dynamodb.put_item(TableName=aws.table, Item=item)

    return Backend(aws.env(), {}, plant)


def _redis(server: RedisServer, path: Path) -> Backend:
    def plant(session: str, template: str, task_id: str, changes: dict[str, Any]) -> None:
        client = redis.Redis.from_url(server.url, decode_responses=True)
        (key,) = client.scan_iter(match=f"agent:*:task:{template}")
        fields = client.hgetall(key)
        record = {**json.loads(fields["record"]), "task_id": task_id, **changes}
        prefix = key.rsplit(":task:", 1)[0]
        client.hset(f"{prefix}:task:{task_id}", mapping={**fields, "record": json.dumps(record)})
        client.zadd(f"{prefix}:tasks", {task_id: record["created_at"]})
        client.close()

    env = {"AGENT_SQLITE_PATH": str(path), "AGENT_REDIS_URL": server.url}
    return Backend(env, {"retention": "ephemeral"}, plant)


@pytest.fixture(params=["sqlite", "dynamodb", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    path = tmp_path / "tasks.sqlite3"
    if request.param == "sqlite":
        yield _sqlite(path)
    elif request.param == "dynamodb":
        yield _dynamodb(request.getfixturevalue("moto_server"))
    else:
        yield _redis(request.getfixturevalue("redis_server"), path)


def test_an_unreadable_record_is_isolated_from_its_session(backend: Backend) -> None:
    session = new_session()
    with running_agent({**FAST_TIMERS, **backend.env}) as agent:
        suspended = start_task(agent, session, duration=30, **backend.fields)
        eventually(lambda: get_task(agent, suspended, session)["progress"] > 0, what="a first heartbeat")
        agent.stop()  # SIGTERM: the resumable task is recorded SUSPENDED
        newer, mistyped = str(uuid.uuid4()), str(uuid.uuid4())
        backend.plant(session, suspended, newer, NEWER_STATUS)
        backend.plant(session, suspended, mistyped, MISTYPED)
        agent.start()

        status, listing = agent.invoke({"action": "list_tasks"}, session)
        assert status == 200 and "error" not in listing, listing
        statuses = {task["task_id"]: task["status"] for task in listing["tasks"]}
        assert statuses == {suspended: "RUNNING", newer: "UNREADABLE", mistyped: "UNREADABLE"}
        eventually(lambda: agent.ping()["status"] == "HealthyBusy", 5, what="the readable task resumed")

        for task_id in (newer, mistyped, newer):
            status, body = agent.invoke({"action": "get_task_result", "task_id": task_id}, session)
            assert (status, body["error"]["code"]) == (200, "RecordUnreadable"), body
            assert task_id in body["error"]["message"]
        resumed = get_task(agent, suspended, session)
        assert (resumed["status"], resumed["attempt"]) == ("RUNNING", 2)

        logged = [r for r in agent.log_records() if "unreadable" in r.get("message", "")]
        assert sorted(r.get("task_id") for r in logged) == sorted([newer, mistyped])
        assert SECRET not in agent.logs()
