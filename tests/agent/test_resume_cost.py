"""A new microVM's first invocation reads the session's open records (RUNNING, SUSPENDED, owing an
announcement), not its whole history: on DynamoDB (moto server) through a sparse index that holds
only those records, so resuming costs the same after 10 tasks or 10,000.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from agent.records import TaskRecord, TaskStatus
from agent.store.dynamodb import DynamoStore
from agentcore_async.contract import TableSchema
from tests.agent.aws import AwsResources, create_resources
from tests.agent.helpers import eventually, get_task, new_session, start_task
from tests.support.agent_process import FAST_TIMERS, running_agent
from tests.support.servers import MotoServer

FINISHED = 30
SUSPENDED = 3


def _open_index_keys(aws: AwsResources, session: str) -> tuple[set[str], int]:
    """Task ids the open index holds for ``session``, and how many items the query scanned."""
    response = aws.dynamodb.query(
        TableName=aws.table,
        IndexName=TableSchema.OPEN_INDEX,
        KeyConditionExpression="#pk = :pk",
        ExpressionAttributeNames={"#pk": TableSchema.PARTITION_KEY},
        ExpressionAttributeValues={":pk": {"S": session}},
    )
    return {item[TableSchema.SORT_KEY]["S"] for item in response["Items"]}, response["ScannedCount"]


def test_a_new_microvm_resumes_exactly_the_suspended_tasks_of_a_long_session(moto_server: MotoServer) -> None:
    aws = create_resources(moto_server)
    session = new_session()
    with running_agent({**FAST_TIMERS, **aws.env()}) as agent:
        finished = [start_task(agent, session, duration=0.01) for _ in range(FINISHED)]
        suspended = [start_task(agent, session, duration=30) for _ in range(SUSPENDED)]
        eventually(
            lambda: all(get_task(agent, t, session)["status"] == "COMPLETED" for t in finished),
            what="the short tasks to finish",
        )
        eventually(
            lambda: all(get_task(agent, t, session)["progress"] > 0 for t in suspended),
            what="a first heartbeat of each long task",
        )
        agent.stop()  # SIGTERM: the long (resumable) tasks are recorded SUSPENDED

        assert _open_index_keys(aws, session) == (set(suspended), SUSPENDED)

        agent.start()
        _, listing = agent.invoke({"action": "list_tasks", "limit": 100}, session)  # the first invocation
        states = {t["task_id"]: (t["status"], t["attempt"]) for t in listing["tasks"]}
        assert states == {t: ("COMPLETED", 1) for t in finished} | {t: ("RUNNING", 2) for t in suspended}
        eventually(lambda: agent.ping()["status"] == "HealthyBusy", 5, what="the suspended tasks resumed")


def _record(session: str, status: TaskStatus, owed: tuple[str, ...] = ()) -> TaskRecord:
    now = time.time()
    return TaskRecord(
        session_id=session,
        task_id=str(uuid.uuid4()),
        status=status,
        kind="sleep",
        input_json="{}",
        created_at=now,
        updated_at=now,
        heartbeat_at=now,
        expires_at=int(now) + 3600,
        announce_pending=owed,
    )


def test_resume_reads_scan_the_open_records_not_the_history(
    moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws = create_resources(moto_server)
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.endpoint)
    session = new_session()
    store = DynamoStore(aws.table)
    scanned: list[int] = []

    def on_query(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        scanned.append(int(parsed.get("ScannedCount", 0)))

    store._client.meta.events.register("after-call.dynamodb.Query", on_query)
    try:
        for _ in range(200):
            store.create(_record(session, TaskStatus.COMPLETED))
        suspended = {store.create(_record(session, TaskStatus.SUSPENDED)).task_id for _ in range(3)}
        owing = {store.create(_record(session, TaskStatus.COMPLETED, ("event",))).task_id for _ in range(2)}

        assert {r.task_id for r in store.unfinished(session)} == suspended
        assert sum(scanned) == len(suspended | owing)  # what the index holds, not the 205 records
        scanned.clear()
        assert {r.task_id for r in store.announcing(session)} == owing
        assert sum(scanned) == len(suspended | owing)

        settled = store.get(session, next(iter(owing)))
        assert settled is not None
        assert store.transition(settled.replace(announce_pending=()), TaskStatus.COMPLETED, settled.attempt)
        assert _open_index_keys(aws, session)[0] == suspended | owing - {settled.task_id}
    finally:
        store.close()
