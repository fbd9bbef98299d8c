"""Figure 10: the first invocation of a new microVM in a session with a long history, on DynamoDB.

That invocation resumes the session's suspended tasks (and sends what is still owed). Ours finds
them through the sparse open index; the baseline is the same agent with the reads it had before
the index (``bench.baselines.full_partition_store``): the whole partition, filtered afterwards.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from agent.records import TaskRecord, TaskStatus
from agent.store.dynamodb import DynamoStore
from agentcore_async.contract import EnvVar, TableSchema
from bench.config import BenchConfig
from bench.dynalite import dynalite
from bench.environment import AWS_ENV, OURS, TABLE_NAME, Environment
from bench.http import HttpConnection
from bench.load import invoke
from bench.processes import Server
from bench.results import FigureResult, Row
from bench.sessions import new_session_id
from bench.stats import Summary

TITLE = "First invocation of a new microVM in a long session, DynamoDB (dynalite)"
BASELINE_WRAPPER = "bench.baselines.full_partition_store"
WRITERS = 16
AGENT_ENV = {EnvVar.MAX_ATTEMPTS: "1000"}
"""Every round resumes each task once more: the default (10 attempts) would fail them mid-run."""


def finished_record(session: str) -> TaskRecord:
    """A completed task of the demo kind, as the agent stores one."""
    now = time.time()
    return TaskRecord(
        session_id=session,
        task_id=str(uuid.uuid4()),
        status=TaskStatus.COMPLETED,
        kind="sleep",
        input_json='{"duration":0.01,"result_bytes":null}',
        created_at=now,
        updated_at=now,
        heartbeat_at=now,
        expires_at=int(now) + 86_400,
        result="done",
        progress=1.0,
    )


@contextmanager
def aws_environ(endpoint: str) -> Any:
    """This process's AWS settings pointed at the stand-in while the block runs."""
    saved = dict(os.environ)
    os.environ.update({**AWS_ENV, "AWS_ENDPOINT_URL": endpoint})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def seed_history(store: DynamoStore, session: str, finished: int) -> None:
    """``finished`` completed records, written by a few threads at once."""
    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(lambda _: store.create(finished_record(session)), range(finished)))


def statuses(store: DynamoStore, session: str, task_ids: list[str]) -> set[str]:
    """The statuses the tasks have now."""
    return {r.status.value for t in task_ids if (r := store.get(session, t)) is not None}


def first_invocation_ms(server: Server, session: str, task_id: str) -> float:
    """Time of the new process's first invocation of the session: a poll of a suspended task."""

    async def poll() -> float:
        conn = HttpConnection(server.port)
        try:
            await conn.request("GET", "/ping")  # connected before the clock starts
            began = time.perf_counter()
            await invoke(conn, session, {"action": "get_task_result", "task_id": task_id})
            return (time.perf_counter() - began) * 1000.0
        finally:
            await conn.close()

    return asyncio.run(poll())


def scanned(store: DynamoStore, session: str, index: str | None) -> int:
    """Items one resume query reads: the open index, or (None) the whole partition."""
    params: dict[str, Any] = {
        "TableName": TABLE_NAME,
        "KeyConditionExpression": "#pk = :pk",
        "ExpressionAttributeNames": {"#pk": TableSchema.PARTITION_KEY},
        "ExpressionAttributeValues": {":pk": {"S": session}},
        "Select": "COUNT",
    }
    if index is not None:
        params["IndexName"] = index
    total = 0
    while True:
        response = store._client.query(**params)
        total += int(response["ScannedCount"])
        if not response.get("LastEvaluatedKey"):
            return total
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def run(env: Environment, config: BenchConfig) -> FigureResult:
    """Seed the session, suspend its tasks, then time new processes' first invocation, alternating."""
    finished, suspended_count, rounds = config.resume_finished, config.resume_suspended, config.resume_rounds
    session = new_session_id("resume")
    samples: dict[str, list[float]] = {"ours": [], "before": []}
    with dynalite(env.workdir / "dynalite") as stand_in, aws_environ(stand_in.moto_url):
        store = DynamoStore(TABLE_NAME)
        seed_history(store, session, finished)
        with stand_in.agent(OURS, "dynamodb", AGENT_ENV) as agent:
            payload = {"action": "start_background_task", "duration": 3600}
            suspended = [asyncio.run(_start(agent, session, payload)) for _ in range(suspended_count)]
        # Stopped (SIGTERM): the resumable tasks are recorded SUSPENDED.
        for number in range(rounds):
            for side in ("ours", "before") if number % 2 == 0 else ("before", "ours"):
                if statuses(store, session, suspended) != {TaskStatus.SUSPENDED.value}:
                    raise RuntimeError("the tasks were not recorded SUSPENDED between rounds")
                wrapper = None if side == "ours" else BASELINE_WRAPPER
                with stand_in.agent(OURS, "dynamodb", AGENT_ENV, wrapper=wrapper) as agent:
                    samples[side].append(first_invocation_ms(agent, session, suspended[0]))
                    if statuses(store, session, suspended) != {TaskStatus.RUNNING.value}:
                        raise RuntimeError(f"{side}: the first invocation did not resume every task")
        read_ours = scanned(store, session, TableSchema.OPEN_INDEX)
        read_before = scanned(store, session, None)
        store.close()
    ours, before = Summary.of(samples["ours"]), Summary.of(samples["before"])
    history = f"{finished:,} finished + {suspended_count} suspended"
    rows = (
        Row(10, f"first invocation p50, {history}", "ms", ours.p50, before.p50),
        Row(10, f"first invocation max, {history}", "ms", ours.maximum, before.maximum),
        Row(10, f"items read per resume query, {history}", "items", read_ours, read_before),
    )
    notes = (
        f"A session of {finished:,} completed records (written straight to the table) and "
        f"{suspended_count} tasks started by an agent that was then stopped (SIGTERM: SUSPENDED). "
        f"In {rounds} alternating rounds per side a new agent process (a new microVM) answers a poll "
        "of one suspended task; that first invocation resumes all of them (checked: each reads "
        "RUNNING after it), and the process is stopped again, so they are SUSPENDED for the next.",
        "Baseline (the table's baseline column): the same agent with the resume reads it had "
        "before the sparse index "
        f"(`{BASELINE_WRAPPER}`): a consistent query of the whole partition, filtered afterwards. "
        "Ours: the sparse `by_open` index (keys only), then a consistent batch read of those keys.",
        "Items read: ScannedCount of one resume query (a resume makes two: unfinished and owed "
        "announcements). On DynamoDB reads are billed by what is scanned, so that is the cost.",
    )
    return FigureResult(10, TITLE, rows, notes)


async def _start(agent: Server, session: str, payload: dict[str, Any]) -> str:
    conn = HttpConnection(agent.port)
    try:
        body = await invoke(conn, session, payload)
        return str(body["task_id"])
    finally:
        await conn.close()
