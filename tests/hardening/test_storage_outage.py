"""Storage outage mid-run: Redis goes down, then DynamoDB and S3 (moto); then both come back.

Guarantees checked: /ping keeps answering; polls get a clear ``StorageUnavailable``; tasks that
finish their work during the outage are recorded once storage returns (or end FAILED with a stable
code); no task ever reads COMPLETED without its result; everything finished before is readable after.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, Final

import pytest

from tests.agent.aws import create_resources
from tests.hardening.tasks import finished, get, new_session, start
from tests.support.agent_process import AgentProcess, running_agent
from tests.support.servers import MotoServer, RedisServer, running_moto, running_redis
from tests.support.waiting import eventually

WORK_SECONDS: Final = 3.0
STABLE_FAILURE_CODES: Final = frozenset({"ResultStoreFailed"})
S3_SIZE: Final = 5000
"""Above the agent's S3 threshold below, so this result goes to S3."""


@pytest.fixture
def own_moto() -> Iterator[MotoServer]:
    """A moto server only this test stops (moto keeps its state in-process across a restart)."""
    with running_moto() as server:
        yield server


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A durable redis-server only this test stops."""
    with running_redis(durable=True) as server:
        yield server


def _unavailable(agent: AgentProcess, session: str, task_id: str) -> None:
    status, body = agent.invoke({"action": "get_task_result", "task_id": task_id}, session)
    assert status == 200, body
    assert body["error"]["code"] == "StorageUnavailable"
    assert "retry" in body["error"]["message"]


def _assert_sound(view: dict[str, Any], size: int | None) -> None:
    """COMPLETED always carries its whole result; FAILED carries a stable code."""
    if view["status"] == "COMPLETED":
        expected = len(f"Task completed after {WORK_SECONDS:g}s") if size is None else size
        assert "result" in view, view
        assert len(view["result"].encode()) == expected
    else:
        assert view["status"] == "FAILED", view
        assert view["error"]["code"] in STABLE_FAILURE_CODES


def test_tasks_survive_a_redis_then_aws_outage(own_moto: MotoServer, own_redis: RedisServer) -> None:
    aws = create_resources(own_moto)
    env = {
        **aws.env(),
        "AGENT_REDIS_URL": own_redis.url,
        "AGENT_HEARTBEAT_SECONDS": "0.2",
        "AGENT_LEASE_SECONDS": "3",
        "AGENT_WRITE_ATTEMPTS": "3",
        "AGENT_RETRY_BASE_SECONDS": "0.05",
        "AGENT_S3_THRESHOLD_BYTES": "1024",
        "AGENT_LOG_LEVEL": "WARNING",
    }
    session = new_session()
    with running_agent(env) as agent:
        before = {
            start(agent, session, 0.1)["task_id"]: "durable",
            start(agent, session, 0.1, result_bytes=S3_SIZE)["task_id"]: "s3",
            start(agent, session, 0.1, retention="ephemeral")["task_id"]: "ephemeral",
        }
        results_before = {task_id: finished(agent, session, task_id) for task_id in before}
        assert all(view["status"] == "COMPLETED" for view in results_before.values())

        sizes: dict[str, int | None] = {}
        for fields in ({}, {"result_bytes": S3_SIZE}, {"retention": "ephemeral"}):
            task_id = start(agent, session, WORK_SECONDS, **fields)["task_id"]
            sizes[task_id] = fields.get("result_bytes")  # type: ignore[assignment]
        running = list(sizes)
        ephemeral_running = running[2]
        durable_done = next(iter(before))

        own_redis.stop()
        _unavailable(agent, session, ephemeral_running)
        assert get(agent, session, durable_done)["status"] == "COMPLETED"  # the cache is optional
        own_moto.stop()
        outage_began = time.monotonic()
        for task_id in [durable_done, *running]:
            _unavailable(agent, session, task_id)

        # The work ends during the outage; the agent keeps answering /ping and stays busy.
        while time.monotonic() - outage_began < WORK_SECONDS + 1.5:
            assert agent.ping(timeout=2)["status"] == "HealthyBusy"
            _unavailable(agent, session, running[0])
            time.sleep(0.25)

        own_redis.restart()
        own_moto.restart()

        views = {task_id: finished(agent, session, task_id, timeout=30) for task_id in sizes}
        for task_id, view in views.items():
            _assert_sound(view, sizes[task_id])
        # The inline result needed nothing but the task store: it was held and written on recovery.
        assert views[running[0]]["status"] == "COMPLETED"
        eventually(lambda: agent.ping()["status"] == "Healthy", 15, what="/ping back to Healthy")
        for task_id, view in results_before.items():
            assert get(agent, session, task_id) == view, before[task_id]
