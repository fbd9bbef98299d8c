"""A result whose S3 object is gone (deleted, or expired by the bucket's lifecycle rule) is not an
outage: get_task_result answers ``ResultExpired`` on every poll, never ``StorageUnavailable``, and
the session keeps working. Records in DynamoDB or SQLite, objects in a moto server's bucket."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agent.aws import Records, create_resources
from tests.agent.conftest import StartAgent
from tests.agent.helpers import get_task, new_session, start_task
from tests.support.servers import MotoServer


@pytest.fixture(params=["dynamodb", "sqlite"])
def records(request: pytest.FixtureRequest, moto_server: MotoServer, tmp_path: Path) -> Records:
    return Records(request.param, create_resources(moto_server), tmp_path / "tasks.sqlite3")


def test_a_result_whose_object_is_gone_reads_result_expired_on_every_poll(
    start_agent: StartAgent, records: Records
) -> None:
    agent = start_agent(**records.env(), AGENT_S3_THRESHOLD_BYTES="2000")
    session = new_session()
    task_id = start_task(agent, session, duration=0.1, result_bytes=5_000)
    assert get_task(agent, task_id, session, wait=20)["status"] == "COMPLETED"
    record = records.get(session, task_id)
    assert record is not None and record.result_key is not None
    records.aws.s3.delete_object(Bucket=records.aws.bucket, Key=record.result_key)

    for _ in range(2):  # not an outage: the same answer each time
        status, body = agent.invoke({"action": "get_task_result", "task_id": task_id}, session)
        assert (status, body["error"]["code"]) == (200, "ResultExpired"), body
        assert task_id in body["error"]["message"]
    status, page = agent.invoke({"action": "list_tasks"}, session)
    assert (status, [(t["task_id"], t["status"]) for t in page["tasks"]]) == (200, [(task_id, "COMPLETED")])
    assert (
        get_task(agent, start_task(agent, session, duration=0.1), session, wait=20)["status"] == "COMPLETED"
    )
