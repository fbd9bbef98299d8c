"""A client_token whose task has expired starts a new task, on every store.

Task ids for a token are derived from (session, owner, token), so the new task has the old id: the
store must replace the expired record rather than answer it (or refuse the token for good).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.aws import create_resources
from tests.agent.helpers import eventually, get_task, new_session
from tests.support.agent_process import FAST_TIMERS, AgentProcess, running_agent

SHORT_TTLS = {"AGENT_RESULT_TTL_SECONDS": "3", "AGENT_EPHEMERAL_TTL_SECONDS": "3"}
"""Records expire seconds after their task ends, so a token outlives its task within the test. Not
one second: expiry is a whole second (``int(now + ttl)``), so a 1 s TTL can end a record a few
milliseconds after it is written, before a loaded machine reads it COMPLETED."""


@pytest.fixture(params=["memory", "sqlite", "dynamodb", "dynamodb+cache", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[AgentProcess, str]]:
    """An agent with short TTLs and the retention whose records the named backend keeps."""
    env = {**FAST_TIMERS, **SHORT_TTLS}
    retention = "durable"
    if request.param == "memory":
        env |= {"AGENT_STORE_BACKEND": "memory", "AGENT_ALLOW_MEMORY_STORE": "true"}
    elif request.param == "sqlite":
        env |= {"AGENT_SQLITE_PATH": str(tmp_path / "tasks.sqlite3")}
    else:
        env |= create_resources(request.getfixturevalue("moto_server")).env()
        if request.param != "dynamodb":  # Redis holds ephemeral records and caches finished ones
            env |= {"AGENT_REDIS_URL": request.getfixturevalue("redis_server").url}
            retention = "ephemeral" if request.param == "redis" else "durable"
    with running_agent(env) as agent:
        yield agent, retention


@pytest.mark.parametrize("duration", [0.1, 0.2], ids=["same-input", "other-input"])
def test_a_token_reused_after_its_task_expired_starts_a_new_task(
    backend: tuple[AgentProcess, str], duration: float
) -> None:
    agent, retention = backend
    session = new_session()

    def start(duration: float) -> dict[str, object]:
        payload = {
            "action": "start_background_task",
            "duration": duration,
            "client_token": "nightly-report",
            "retention": retention,
        }
        status, body = agent.invoke(payload, session)
        assert status == 200, body
        return body

    first = start(0.1)
    assert get_task(agent, str(first["task_id"]), session, wait=20)["status"] == "COMPLETED"

    def expired() -> bool:
        status, body = agent.invoke({"action": "get_task_result", "task_id": first["task_id"]}, session)
        return status == 200 and body.get("error", {}).get("code") == "TaskNotFound"

    eventually(expired, timeout=10, what="the first task to expire", interval=0.1)

    # Neither the expired task (which reads TaskNotFound) nor, with another input, ClientTokenConflict.
    second = start(duration)
    assert second.get("status") == "RUNNING", second
    done = get_task(agent, str(second["task_id"]), session, wait=20)
    assert (done["status"], done["result"]) == ("COMPLETED", f"Task completed after {duration:g}s")
    # Still idempotent: the token now names the new task.
    again = start(duration)
    assert (again["task_id"], again["status"]) == (second["task_id"], "COMPLETED")
