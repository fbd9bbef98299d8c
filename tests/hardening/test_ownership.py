"""Under JWT auth a task belongs to its caller as well as its session, on every store.

Two users (two token subjects) share one session id. The other user's get, long-poll, cancel,
list, client token and result URL all answer ``TaskNotFound`` or nothing, exactly as another
session does, on SQLite, on DynamoDB + S3 (moto in server mode) and on Redis (a real
redis-server, ephemeral tasks and the result cache).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urlsplit

import pytest

from tests.agent.aws import AwsResources, create_resources
from tests.hardening.tasks import new_session
from tests.support.agent_process import FAST_TIMERS, AgentProcess, running_agent
from tests.support.jwt_issuer import LocalIssuer, bearer
from tests.support.servers import MotoServer, RedisServer
from tests.support.waiting import eventually

LARGE: Final = 6000
"""Above the presign threshold of the DynamoDB + S3 agent: handed out as a result URL."""
JWT_ENV: Final = {**FAST_TIMERS, "AGENT_AUTH": "jwt", "AGENT_LOG_LEVEL": "WARNING"}

ISSUER = LocalIssuer()
ALICE: Final = bearer(ISSUER.token("alice-0f5e"))
BOB: Final = bearer(ISSUER.token("bob-77aa"))


def call(agent: AgentProcess, session: str, who: dict[str, str], payload: dict[str, Any]) -> dict[str, Any]:
    status, body = agent.invoke(payload, session, timeout=30, headers=who)
    assert status == 200, body
    return body


def start(agent: AgentProcess, session: str, who: dict[str, str], **fields: Any) -> str:
    body = call(agent, session, who, {"action": "start_background_task", "duration": 0.1, **fields})
    assert "task_id" in body, body
    return str(body["task_id"])


def finished(agent: AgentProcess, session: str, who: dict[str, str], task_id: str) -> dict[str, Any]:
    payload = {"action": "get_task_result", "task_id": task_id, "wait_seconds": 5}
    return eventually(
        lambda: (view := call(agent, session, who, payload))["status"] != "RUNNING" and view,
        30,
        f"task {task_id} to finish",
    )


def listed(agent: AgentProcess, session: str, who: dict[str, str]) -> set[str]:
    body = call(agent, session, who, {"action": "list_tasks", "limit": 100})
    return {task["task_id"] for task in body["tasks"]}


def refused(agent: AgentProcess, session: str, who: dict[str, str], payload: dict[str, Any]) -> None:
    body = call(agent, session, who, payload)
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == "TaskNotFound"


def assert_isolated(agent: AgentProcess, **start_fields: Any) -> dict[str, str]:
    """Alice's tasks are invisible to Bob in the same session; returns Alice's task ids by name."""
    session = new_session()
    mine = {
        "done": start(agent, session, ALICE, **start_fields),
        "running": start(agent, session, ALICE, **{**start_fields, "duration": 60}),
        "token": start(agent, session, ALICE, client_token="shared-token", **start_fields),
    }
    finished(agent, session, ALICE, mine["done"])
    for task_id in mine.values():
        refused(agent, session, BOB, {"action": "get_task_result", "task_id": task_id})
        refused(agent, session, BOB, {"action": "get_task_result", "task_id": task_id, "wait_seconds": 1})
        refused(agent, session, BOB, {"action": "cancel_task", "task_id": task_id})
    assert listed(agent, session, BOB) == set()
    assert listed(agent, session, ALICE) == set(mine.values())
    # Bob's cancel changed nothing, and the same client token is another task for him.
    assert call(agent, session, ALICE, {"action": "get_task_result", "task_id": mine["running"]})[
        "status"
    ] == ("RUNNING")
    theirs = start(agent, session, BOB, client_token="shared-token", **start_fields)
    assert theirs != mine["token"]
    assert listed(agent, session, BOB) == {theirs}
    assert start(agent, session, ALICE, client_token="shared-token", **start_fields) == mine["token"]
    call(agent, session, ALICE, {"action": "cancel_task", "task_id": mine["running"]})
    return mine


def test_on_sqlite(tmp_path: Path) -> None:
    with running_agent({**JWT_ENV, "AGENT_SQLITE_PATH": str(tmp_path / "tasks.sqlite3")}) as agent:
        assert_isolated(agent)


@pytest.fixture(scope="module")
def aws(moto_server: MotoServer) -> AwsResources:
    return create_resources(moto_server)


@pytest.fixture(scope="module")
def aws_agent(aws: AwsResources, redis_server: RedisServer) -> Iterator[AgentProcess]:
    """DynamoDB + S3 with small thresholds, and Redis for ephemeral tasks and the result cache."""
    env = {
        **JWT_ENV,
        **aws.env(),
        "AGENT_REDIS_URL": redis_server.url,
        "AGENT_S3_THRESHOLD_BYTES": "1024",
        "AGENT_PRESIGN_THRESHOLD_BYTES": "2048",
    }
    with running_agent(env) as agent:
        yield agent


def test_on_dynamodb_with_results_in_s3(aws_agent: AgentProcess, aws: AwsResources) -> None:
    mine = assert_isolated(aws_agent)
    # A result in S3: Alice gets a URL under her own key prefix, Bob gets nothing.
    session = new_session()
    large = start(aws_agent, session, ALICE, result_bytes=LARGE)
    url = finished(aws_agent, session, ALICE, large)["result_url"]
    session_hash = hashlib.sha256(session.encode()).hexdigest()
    owner_hash = hashlib.sha256(b"alice-0f5e").hexdigest()
    key = f"results/{session_hash}/{owner_hash}/{large}.result-1"  # the first attempt's object
    assert unquote(urlsplit(url).path) == f"/{aws.bucket}/{key}"
    refused(aws_agent, session, BOB, {"action": "get_task_result", "task_id": large})
    item = aws.item(session, large)
    assert item is not None and item["owner"] == {"S": "alice-0f5e"}
    assert mine  # the durable tasks above were DynamoDB records


def test_on_redis_ephemeral_tasks_and_the_result_cache(aws_agent: AgentProcess) -> None:
    assert_isolated(aws_agent, retention="ephemeral")
    # A finished durable task is served from the Redis cache on the second read: still Alice's only.
    session = new_session()
    task_id = start(aws_agent, session, ALICE)
    finished(aws_agent, session, ALICE, task_id)
    call(aws_agent, session, ALICE, {"action": "get_task_result", "task_id": task_id})  # cached now
    refused(aws_agent, session, BOB, {"action": "get_task_result", "task_id": task_id})


def test_a_jwt_agent_refuses_a_call_without_a_bearer_token(tmp_path: Path) -> None:
    """Never served as nobody's: a missing allowlist entry cannot make tasks shared."""
    with running_agent({**JWT_ENV, "AGENT_SQLITE_PATH": str(tmp_path / "tasks.sqlite3")}) as agent:
        status, body = agent.invoke({"action": "list_tasks"}, new_session())
        assert status == 200
        assert body["error"]["code"] == "Unauthenticated"
        status, body = agent.invoke({"action": "list_tasks"}, new_session(), headers={"Authorization": "x"})
        assert body["error"]["code"] == "Unauthenticated"
