"""Redis/Valkey: ephemeral tasks kept only there with a TTL, and a cache of finished results."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from agent.settings import load_settings
from tests.agent.aws import AwsResources, create_resources
from tests.agent.helpers import eventually, get_task, new_session, start_task
from tests.support.agent_process import FAST_TIMERS, AgentProcess, running_agent
from tests.support.servers import MotoServer, RedisServer, free_port, running_redis


@pytest.fixture(scope="module")
def aws(moto_server: MotoServer) -> AwsResources:
    return create_resources(moto_server)


@pytest.fixture(scope="module")
def redis_agent(aws: AwsResources, redis_server: RedisServer) -> Iterator[AgentProcess]:
    env = {
        **FAST_TIMERS,
        **aws.env(),
        "AGENT_REDIS_URL": redis_server.url,
        "AGENT_EPHEMERAL_TTL_SECONDS": "5",
        "AGENT_CACHE_TTL_SECONDS": "60",
    }
    with running_agent(env) as agent:
        yield agent


@pytest.fixture
def client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_server.url, decode_responses=True)
    yield connection
    connection.close()


def test_ephemeral_task_lives_only_in_redis_and_expires(
    redis_agent: AgentProcess, aws: AwsResources, client: redis.Redis
) -> None:
    session = new_session()
    task_id = start_task(redis_agent, session, duration=0.2, retention="ephemeral")
    done = get_task(redis_agent, task_id, session, wait=20)
    assert (done["status"], done["result"], done["retention"]) == (
        "COMPLETED",
        "Task completed after 0.2s",
        "ephemeral",
    )
    assert aws.item(session, task_id) is None  # never written to DynamoDB
    keys = [k for k in client.scan_iter(match="agent:*:task:" + task_id)]
    assert len(keys) == 1
    assert 0 < client.ttl(keys[0]) <= 5
    _status, listing = redis_agent.invoke({"action": "list_tasks"}, session)
    assert [t["task_id"] for t in listing["tasks"]] == [task_id]

    def gone() -> bool:
        status, body = redis_agent.invoke({"action": "get_task_result", "task_id": task_id}, session)
        return status == 200 and body.get("error", {}).get("code") == "TaskNotFound"

    eventually(gone, timeout=20, interval=0.2)


def test_ephemeral_task_longer_than_its_ttl_keeps_its_result(redis_agent: AgentProcess) -> None:
    # The TTL (5 s here) is how long a result is kept: a task running longer must not expire mid-run.
    session = new_session()
    task_id = start_task(redis_agent, session, duration=7, retention="ephemeral")
    done = get_task(redis_agent, task_id, session, wait=20)
    assert (done["status"], done["result"]) == ("COMPLETED", "Task completed after 7s")


def test_ephemeral_cancel_and_session_isolation(redis_agent: AgentProcess) -> None:
    session = new_session()
    task_id = start_task(redis_agent, session, duration=60, retention="ephemeral")
    status, body = redis_agent.invoke({"action": "get_task_result", "task_id": task_id}, new_session())
    assert (status, body["error"]["code"]) == (200, "TaskNotFound")
    status, body = redis_agent.invoke({"action": "cancel_task", "task_id": task_id}, session)
    assert (status, body["status"]) == (200, "CANCELLED")


def test_creating_an_ephemeral_task_drops_index_entries_that_must_have_expired(
    redis_agent: AgentProcess, client: redis.Redis
) -> None:
    session = new_session()
    first = start_task(redis_agent, session, duration=0.1, retention="ephemeral")
    [index] = [k for k in client.scan_iter(match="agent:*:tasks") if client.zscore(k, first) is not None]
    # An entry older than the longest task (resumes included) plus the TTL, as a long-lived session
    # leaves behind.
    horizon = load_settings({}).resumable_seconds
    client.zadd(index, {"stale-task": time.time() - horizon - 5 - 60})
    second = start_task(redis_agent, session, duration=0.1, retention="ephemeral")
    assert client.zscore(index, "stale-task") is None
    assert client.zscore(index, first) is not None
    assert client.zscore(index, second) is not None


def test_finished_durable_results_are_served_from_the_cache(
    redis_agent: AgentProcess, aws: AwsResources, client: redis.Redis
) -> None:
    session = new_session()
    task_id = start_task(redis_agent, session, duration=0.1)
    assert get_task(redis_agent, task_id, session, wait=20)["status"] == "COMPLETED"
    assert [k for k in client.scan_iter(match="agent:*:result:" + task_id)]
    # With the record gone from DynamoDB, hot polls are still answered from the cache.
    aws.dynamodb.delete_item(
        TableName=aws.table, Key={"session_id": {"S": session}, "task_id": {"S": task_id}}
    )
    cached = get_task(redis_agent, task_id, session)
    assert (cached["status"], cached["result"]) == ("COMPLETED", "Task completed after 0.1s")
    # The cache is per session, like the store.
    _status, body = redis_agent.invoke({"action": "get_task_result", "task_id": task_id}, new_session())
    assert body["error"]["code"] == "TaskNotFound"


def test_redis_down_keeps_durable_tasks_working(aws: AwsResources) -> None:
    env = {
        **FAST_TIMERS,
        **aws.env(),
        "AGENT_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "AGENT_WRITE_ATTEMPTS": "1",
    }
    with running_agent(env) as agent:
        session = new_session()
        task_id = start_task(agent, session, duration=0.1)
        assert get_task(agent, task_id, session, wait=20)["status"] == "COMPLETED"
        status, body = agent.invoke(
            {"action": "start_background_task", "duration": 1, "retention": "ephemeral"}, session
        )
        assert (status, body["error"]["code"]) == (200, "StorageUnavailable")


def test_listing_skips_expired_ephemeral_tasks_and_still_finds_live_ones(
    aws: AwsResources, redis_server: RedisServer
) -> None:
    env = {
        **FAST_TIMERS,
        **aws.env(),
        "AGENT_REDIS_URL": redis_server.url,
        "AGENT_EPHEMERAL_TTL_SECONDS": "1",
    }
    with running_agent(env) as agent:
        session = new_session()
        live = start_task(agent, session, duration=60, retention="ephemeral")
        expired = [start_task(agent, session, duration=0.05, retention="ephemeral") for _ in range(30)]

        def gone(task_id: str) -> bool:
            _status, body = agent.invoke({"action": "get_task_result", "task_id": task_id}, session)
            return body.get("error", {}).get("code") == "TaskNotFound"

        eventually(lambda: gone(expired[-1]), timeout=20, interval=0.2)
        _status, page = agent.invoke({"action": "list_tasks", "limit": 5}, session)
        assert [task["task_id"] for task in page["tasks"]] == [live], page
        assert page["next_cursor"] is None


def test_redis_down_keeps_listing_and_reading_durable_tasks(aws: AwsResources) -> None:
    env = {**FAST_TIMERS, **aws.env(), "AGENT_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    with running_agent(env) as agent:
        session = new_session()
        task_id = start_task(agent, session, duration=0.1)
        assert get_task(agent, task_id, session, wait=20)["status"] == "COMPLETED"
        _status, listing = agent.invoke({"action": "list_tasks"}, session)
        assert [task["task_id"] for task in listing.get("tasks", [])] == [task_id], listing
        _status, body = agent.invoke(
            {"action": "get_task_result", "task_id": "3f2b8c1e-9d4a-4b7e-a1c2-d3e4f5a6b7c8"}, session
        )
        # Not in the durable store, and the store that may hold it cannot be asked: retry later.
        assert body["error"]["code"] == "StorageUnavailable", body


def test_an_ephemeral_task_of_another_microvm_reads_unavailable_while_redis_is_down(
    aws: AwsResources,
) -> None:
    """Found by the nemesis: a microVM that did not start the task answered TaskNotFound while
    Redis was down, and a client's wait took that for final."""
    with running_redis(durable=True) as server:
        env = {**FAST_TIMERS, **aws.env(), "AGENT_REDIS_URL": server.url, "AGENT_WRITE_ATTEMPTS": "1"}
        with running_agent(env) as agent:
            session = new_session()
            task_id = start_task(agent, session, duration=0.1, retention="ephemeral")
            assert get_task(agent, task_id, session, wait=20)["status"] == "COMPLETED"
            agent.restart()  # the next microVM: it knows nothing of the task
            server.stop()
            _status, body = agent.invoke({"action": "get_task_result", "task_id": task_id}, session)
            assert body["error"]["code"] == "StorageUnavailable", body
            server.restart()
            assert get_task(agent, task_id, session)["status"] == "COMPLETED"
