"""Redis refusing writes (full under ``noeviction``, or a read-only replica after a failover) is an
outage like any other: finished work and checkpoints of ephemeral tasks are held until Redis takes
writes again, and the task completes in its first attempt."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.agent.conftest import StartAgent
from tests.agent.helpers import eventually, get_task, new_session
from tests.support.agent_process import AgentProcess
from tests.support.redis_refusals import Refusal, demoted, memory_full
from tests.support.servers import RedisServer, running_redis

WORK = {
    "outcome": ("transition", "once", 0.5, "waited 0.5s once"),
    "checkpoint": ("checkpoint", "sleep", 1.0, "Task completed after 1s"),
}
"""Per write refused, its store operation and the work that makes it: ``once`` only writes its
outcome (and heartbeats), ``sleep`` checkpoints as it goes."""


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A redis-server of this test's own, since the test reconfigures it."""
    with running_redis() as server:
        yield server


@pytest.mark.parametrize("refusal", [memory_full, demoted], ids=["memory full", "read-only replica"])
@pytest.mark.parametrize("write", sorted(WORK))
def test_work_is_held_while_redis_refuses_writes(
    start_agent: StartAgent, own_redis: RedisServer, refusal: Refusal, write: str
) -> None:
    agent: AgentProcess = start_agent(AGENT_REDIS_URL=own_redis.url)
    operation, kind, duration, result = WORK[write]
    session = new_session()
    payload = {
        "action": "start_task",
        "kind": kind,
        "input": {"duration": duration},
        "retention": "ephemeral",
    }
    status, started = agent.invoke(payload, session)
    assert (status, started.get("status")) == (200, "RUNNING"), started
    task_id = started["task_id"]

    def refused() -> bool:
        return any(
            r.get("message") == "storage call failed" and r.get("operation") == operation
            for r in agent.log_records()
        )

    with refusal(own_redis):
        eventually(refused, timeout=20, what=f"the {write} write to be refused")
        # The work is held, not dropped: the microVM stays busy and the task reads RUNNING here.
        assert agent.ping()["status"] == "HealthyBusy"
        assert get_task(agent, task_id, session)["status"] == "RUNNING"

    done = get_task(agent, task_id, session, wait=20)
    assert (done["status"], done.get("result"), done["attempt"]) == ("COMPLETED", result, 1), done
