"""The seed baseline really serves: a real process, real stores, the same payload API as ours."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from agentcore_async.contract import EnvVar, TableSchema
from bench.environment import AWS_ENV, create_task_table
from bench.http import SESSION_HEADER, HttpConnection, Response
from bench.load import ping_samples, run_to_completion, timed_sequential
from bench.processes import Server, python_module, running
from tests.support.servers import MotoServer

SESSION = "bench-test-session-000000000000000000000001"


def _call(server: Server, payload: dict[str, Any], session: str = SESSION) -> Response:
    async def go() -> Response:
        conn = HttpConnection(server.port)
        try:
            return await conn.request("POST", "/invocations", payload, {SESSION_HEADER: session})
        finally:
            await conn.close()

    return asyncio.run(go())


def _ping(server: Server) -> dict[str, Any]:
    async def go() -> Response:
        conn = HttpConnection(server.port)
        try:
            return await conn.request("GET", "/ping")
        finally:
            await conn.close()

    body: dict[str, Any] = asyncio.run(go()).body
    return body


def _until_finished(server: Server, task_id: str, session: str = SESSION) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        body: dict[str, Any] = _call(server, {"action": "get_task_result", "task_id": task_id}, session).body
        if body["status"] != "RUNNING":
            return body
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} never finished")


@pytest.fixture(scope="module")
def sqlite_seed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("seed")
    env = {EnvVar.STORE_BACKEND: "sqlite", EnvVar.SQLITE_PATH: str(workdir / "seed.sqlite3")}
    with running("seed", python_module("bench.baselines.seed_agent"), env=env, workdir=workdir) as server:
        yield server


def test_start_answers_at_once_and_the_result_appears_when_the_thread_finishes(sqlite_seed: Server) -> None:
    # First test of the module: no task has run in this process yet.
    assert _ping(sqlite_seed)["status"] == "Healthy"
    started = _call(sqlite_seed, {"action": "start_background_task", "duration": 0.4})
    assert started.status == 200
    assert started.body["status"] == "RUNNING"
    task_id = started.body["task_id"]
    assert str(uuid.UUID(task_id)) == task_id
    assert _ping(sqlite_seed)["status"] == "HealthyBusy"
    finished = _until_finished(sqlite_seed, task_id)
    assert finished["status"] == "COMPLETED"
    assert finished["result"] == "Task completed after 0.4s"
    assert isinstance(finished["updated_at"], float)
    assert _ping(sqlite_seed)["status"] == "Healthy"


def test_like_the_seed_it_cannot_tell_unknown_from_running(sqlite_seed: Server) -> None:
    unknown = str(uuid.uuid4())
    body = _call(sqlite_seed, {"action": "get_task_result", "task_id": unknown}).body
    assert body == {"task_id": unknown, "status": "RUNNING"}


def test_results_are_per_session(sqlite_seed: Server) -> None:
    task_id = _call(sqlite_seed, {"action": "start_background_task", "duration": 0.1}).body["task_id"]
    assert _until_finished(sqlite_seed, task_id)["status"] == "COMPLETED"
    other = "bench-test-session-000000000000000000000002"
    assert (
        _call(sqlite_seed, {"action": "get_task_result", "task_id": task_id}, other).body["status"]
        == "RUNNING"
    )


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"action": "start_background_task", "duration": 0}, "InvalidDuration"),
        ({"action": "start_background_task", "duration": "5"}, "InvalidDuration"),
        ({"action": "get_task_result", "task_id": 7}, "InvalidTaskId"),
        ({"action": "launch"}, "UnknownAction"),
        ([1, 2], "UnknownAction"),
    ],
)
def test_bad_payloads_are_4xx_json_errors(sqlite_seed: Server, payload: Any, code: str) -> None:
    response = _call(sqlite_seed, payload)
    assert response.status == 400
    assert response.body["error"]["code"] == code
    assert _ping(sqlite_seed)["status"] in {"Healthy", "HealthyBusy"}  # still serving


def test_load_drivers_measure_every_call(sqlite_seed: Server) -> None:
    def payload(i: int) -> dict[str, Any]:
        return {"action": "start_background_task", "duration": 0.05}

    samples = asyncio.run(timed_sequential(sqlite_seed.port, SESSION, 5, payload))
    assert len(samples) == 5 and all(s > 0 for s in samples)
    pings, statuses = asyncio.run(ping_samples(sqlite_seed.port, 4, 0.0))
    assert len(pings) == 4 and statuses <= {"Healthy", "HealthyBusy"}
    view = asyncio.run(run_to_completion(sqlite_seed.port, SESSION, 0.05))
    assert view["status"] == "COMPLETED"


def test_dynamodb_store_writes_the_task_table_through_moto_server(
    tmp_path: Path, moto_server: MotoServer
) -> None:
    table = f"seed-{uuid.uuid4().hex[:8]}"
    create_task_table(moto_server.url, table)
    env = {
        **AWS_ENV,
        "AWS_ENDPOINT_URL": moto_server.url,
        EnvVar.STORE_BACKEND: "dynamodb",
        EnvVar.TABLE_NAME: table,
    }
    with running("seed", python_module("bench.baselines.seed_agent"), env=env, workdir=tmp_path) as server:
        task_id = _call(server, {"action": "start_background_task", "duration": 0.2}).body["task_id"]
        assert _until_finished(server, task_id)["result"] == "Task completed after 0.2s"
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_server.url, region_name="us-east-1")
    item = dynamodb.get_item(
        TableName=table,
        Key={TableSchema.PARTITION_KEY: {"S": SESSION}, TableSchema.SORT_KEY: {"S": task_id}},
    )["Item"]
    assert item["result"] == {"S": "Task completed after 0.2s"}
