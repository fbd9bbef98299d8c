"""DynamoDB records and S3 results, through moto in server mode reached over HTTP."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator

import pytest

from agentcore_async.contract import RESULTS_PREFIX, TableSchema
from tests.agent.aws import AwsResources, create_resources
from tests.agent.helpers import eventually, get_task, new_session, start_task
from tests.support.agent_process import FAST_TIMERS, AgentProcess, running_agent
from tests.support.servers import MotoServer

S3_THRESHOLD = 2_000
PRESIGN_THRESHOLD = 10_000


@pytest.fixture(scope="module")
def aws(moto_server: MotoServer) -> AwsResources:
    return create_resources(moto_server)


@pytest.fixture(scope="module")
def dynamo_agent(aws: AwsResources) -> Iterator[AgentProcess]:
    env = {
        **FAST_TIMERS,
        **aws.env(),
        "AGENT_S3_THRESHOLD_BYTES": str(S3_THRESHOLD),
        "AGENT_PRESIGN_THRESHOLD_BYTES": str(PRESIGN_THRESHOLD),
        "AGENT_RESULT_TTL_SECONDS": "3600",
    }
    with running_agent(env) as agent:
        yield agent


def test_dynamodb_is_chosen_when_a_table_is_named(dynamo_agent: AgentProcess) -> None:
    ready = [r for r in dynamo_agent.log_records() if r.get("message") == "agent ready"]
    assert ready[0]["store"] == "dynamodb"
    assert ready[0]["s3"] is True


def test_small_result_is_inline_in_the_item_with_a_ttl(dynamo_agent: AgentProcess, aws: AwsResources) -> None:
    session = new_session()
    before = time.time()
    task_id = start_task(dynamo_agent, session, duration=0.3)
    running = aws.item(session, task_id)
    assert running is not None
    assert running["status"] == {"S": "RUNNING"}
    done = get_task(dynamo_agent, task_id, session, wait=20)
    assert (done["status"], done["result"]) == ("COMPLETED", "Task completed after 0.3s")
    item = aws.item(session, task_id)
    assert item is not None
    assert item["status"] == {"S": "COMPLETED"}
    assert item["result"] == {"S": "Task completed after 0.3s"}
    assert "result_key" not in item
    expires = int(item[TableSchema.TTL_ATTRIBUTE]["N"])
    assert before + 3600 - 5 <= expires <= time.time() + 3600 + 5
    assert float(item[TableSchema.CREATED_ATTRIBUTE]["N"]) >= before - 1


def test_result_over_the_threshold_goes_to_s3_and_is_returned_inline(
    dynamo_agent: AgentProcess, aws: AwsResources
) -> None:
    session = new_session()
    task_id = start_task(dynamo_agent, session, duration=0.1, result_bytes=5_000)
    done = get_task(dynamo_agent, task_id, session, wait=20)
    assert done["status"] == "COMPLETED"
    assert len(done["result"]) == 5_000
    assert "result_url" not in done
    item = aws.item(session, task_id)
    assert item is not None
    assert "result" not in item
    key = item["result_key"]["S"]
    assert key.startswith(RESULTS_PREFIX)
    assert key.endswith(f"{task_id}.result-1")  # one object per attempt
    body = aws.s3.get_object(Bucket=aws.bucket, Key=key)["Body"].read()
    assert body.decode() == done["result"]


def test_result_over_the_second_threshold_is_a_presigned_url(
    dynamo_agent: AgentProcess, aws: AwsResources
) -> None:
    session = new_session()
    task_id = start_task(dynamo_agent, session, duration=0.1, result_bytes=50_000)
    done = get_task(dynamo_agent, task_id, session, wait=20)
    assert done["status"] == "COMPLETED"
    assert "result" not in done
    url = done["result_url"]
    assert url.startswith(aws.endpoint)
    assert "X-Amz-Signature=" in url
    with urllib.request.urlopen(url, timeout=10) as response:  # a plain GET, no AWS credentials
        data = response.read()
    assert len(data) == 50_000
    assert data.startswith(b"Task completed after 0.1s\n")


def test_list_uses_the_created_at_index_newest_first(dynamo_agent: AgentProcess) -> None:
    session = new_session()
    ids = [start_task(dynamo_agent, session, duration=0.1) for _ in range(3)]
    status, first = dynamo_agent.invoke({"action": "list_tasks", "limit": 2}, session)
    assert status == 200
    assert [t["task_id"] for t in first["tasks"]] == [ids[2], ids[1]]
    status, second = dynamo_agent.invoke(
        {"action": "list_tasks", "limit": 2, "cursor": first["next_cursor"]}, session
    )
    assert status == 200
    assert [t["task_id"] for t in second["tasks"]] == [ids[0]]
    assert second["next_cursor"] is None


def test_idempotent_retry_and_cancel_on_dynamodb(dynamo_agent: AgentProcess, aws: AwsResources) -> None:
    session = new_session()
    first = start_task(dynamo_agent, session, duration=60, client_token="dyn-token")
    assert start_task(dynamo_agent, session, duration=60, client_token="dyn-token") == first
    status, body = dynamo_agent.invoke({"action": "cancel_task", "task_id": first}, session)
    assert (status, body["status"]) == (200, "CANCELLED")
    item = aws.item(session, first)
    assert item is not None
    assert item["status"] == {"S": "CANCELLED"}


def test_a_result_that_cannot_be_stored_fails_the_task_and_the_agent_keeps_serving(
    aws: AwsResources,
) -> None:
    env = {
        **FAST_TIMERS,
        **aws.env(),
        "AGENT_BUCKET_NAME": "bucket-that-does-not-exist",
        "AGENT_S3_THRESHOLD_BYTES": "100",
        "AGENT_WRITE_ATTEMPTS": "2",
        "AGENT_RETRY_BASE_SECONDS": "0.01",
    }
    with running_agent(env) as agent:
        session = new_session()
        task_id = start_task(agent, session, duration=0.1, result_bytes=1_000)
        done = get_task(agent, task_id, session, wait=20)
        assert done["status"] == "FAILED"
        assert done["error"]["code"] == "ResultStoreFailed"
        assert "NoSuchBucket" not in str(done)
        # The failed task released HealthyBusy (its record is written just before the release).
        eventually(lambda: agent.ping()["status"] == "Healthy")
        small = start_task(agent, session, duration=0.1)
        assert get_task(agent, small, session, wait=20)["status"] == "COMPLETED"


def test_storage_down_answers_storage_unavailable(aws: AwsResources) -> None:
    from tests.support.servers import free_port  # noqa: PLC0415

    env = {
        **FAST_TIMERS,
        **aws.env(),
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens here
        "AGENT_WRITE_ATTEMPTS": "2",
        "AGENT_RETRY_BASE_SECONDS": "0.01",
    }
    with running_agent(env) as agent:
        status, body = agent.invoke({"action": "start_background_task", "duration": 1})
        assert status == 200
        assert body == {
            "error": {"code": "StorageUnavailable", "message": "task storage is unavailable; retry"}
        }
        assert agent.ping() == {
            "status": "Healthy",
            "time_of_last_update": agent.ping()["time_of_last_update"],
        }
