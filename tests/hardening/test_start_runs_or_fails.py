"""A start either runs its task or answers an error, also when the store's answer is lost.

The network swallows the reply to the write that creates the task record: the store applied it, the
driver retries, and the retry finds the record already there. That record is ours, so the task must
run; before the fix the agent took its own write for someone else's and never ran the task.

When every reply to the create is lost, the start answers ``StorageUnavailable`` although the record
landed. Without a client token nobody can ask for that task again, so it is closed ``FAILED``
(``StartFailed``) once storage answers; with one, the caller's retry (after its backoff) takes it
over and runs it. Before the fix the record was closed as soon as storage answered, which is before
any retry arrives, so the retry got a ``FAILED`` task for good.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest

from agent.store.redis_store import CREATE_SCRIPT
from tests.agent.aws import create_resources
from tests.hardening.tasks import finished, get, new_session, start
from tests.support.agent_process import FAST_TIMERS, AgentProcess, running_agent
from tests.support.reply_dropper import ReplyDropper, reply_dropper
from tests.support.servers import MotoServer, running_redis
from tests.support.waiting import eventually

QUIET = {**FAST_TIMERS, "AGENT_LOG_LEVEL": "WARNING"}
PUT_ITEM = b"DynamoDB_20120810.PutItem"
OUTAGE_ENV = {**QUIET, "AGENT_LEASE_SECONDS": "10", "AGENT_WRITE_ATTEMPTS": "2"}
"""A lease of 10 s: a token retry may adopt an unconfirmed record for lease - heartbeat = 9.8 s."""
CLIENT_BACKOFF_SECONDS = 1.0
"""How long the caller backs off after StorageUnavailable: far longer than the agent takes to read the
record back once storage answers, far shorter than the adoption window."""


@contextmanager
def agent_on_dynamodb_behind_dropper(
    moto_server: MotoServer, env: Mapping[str, str]
) -> Iterator[tuple[AgentProcess, ReplyDropper]]:
    """An agent with ``env`` on moto's DynamoDB, reached through a reply dropper."""
    aws = create_resources(moto_server)
    with reply_dropper(moto_server.port) as proxy:
        full = {**env, **aws.env(), "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{proxy.port}"}
        with running_agent(full) as agent:
            yield agent, proxy


@pytest.fixture
def dynamodb_behind_dropper(moto_server: MotoServer) -> Iterator[tuple[AgentProcess, ReplyDropper]]:
    with agent_on_dynamodb_behind_dropper(moto_server, QUIET) as behind:
        yield behind


@pytest.fixture
def dynamodb_outage(moto_server: MotoServer) -> Iterator[tuple[AgentProcess, ReplyDropper]]:
    """:func:`dynamodb_behind_dropper` with a longer lease (see ``OUTAGE_ENV``) and two attempts per
    write, so a start whose every reply is lost answers within a second."""
    with agent_on_dynamodb_behind_dropper(moto_server, OUTAGE_ENV) as behind:
        yield behind


def session_tasks(agent: AgentProcess, session: str) -> list[dict[str, Any]]:
    """The session's first page of tasks (list_tasks)."""
    status, body = agent.invoke({"action": "list_tasks", "limit": 10}, session)
    assert status == 200 and "error" not in body, body
    tasks: list[dict[str, Any]] = body["tasks"]
    return tasks


def unanswered_start(proxy: ReplyDropper, agent: AgentProcess, session: str, **fields: Any) -> None:
    """A start whose create lands but whose every attempt the agent sees fail; dropping then stops."""
    proxy.drop_every_reply_to(PUT_ITEM)
    try:
        answer = start(agent, session, 0.3, **fields)
    finally:
        proxy.stop_dropping()
    assert answer.get("error", {}).get("code") == "StorageUnavailable", answer
    assert proxy.dropped >= 2, "no create reply was dropped: the test did not test anything"


@pytest.fixture
def redis_behind_dropper(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[AgentProcess, ReplyDropper]]:
    with running_redis() as redis_server, reply_dropper(redis_server.port) as proxy:
        env = {
            **QUIET,
            "AGENT_SQLITE_PATH": str(tmp_path_factory.mktemp("dropper") / "tasks.sqlite3"),
            "AGENT_REDIS_URL": f"redis://127.0.0.1:{proxy.port}/0",
        }
        with running_agent(env) as agent:
            yield agent, proxy


@pytest.mark.parametrize("client_token", [None, "retried-write-token"])
def test_a_start_whose_dynamodb_reply_is_lost_still_runs(
    dynamodb_behind_dropper: tuple[AgentProcess, ReplyDropper], client_token: str | None
) -> None:
    agent, proxy = dynamodb_behind_dropper
    session = new_session()
    proxy.drop_reply_to(PUT_ITEM)
    fields = {} if client_token is None else {"client_token": client_token}
    started = start(agent, session, 0.3, **fields)
    assert proxy.dropped == 1, "the create's reply was not dropped: the test did not test anything"
    assert started["status"] == "RUNNING"
    assert finished(agent, session, started["task_id"])["status"] == "COMPLETED"


def test_a_start_whose_redis_reply_is_lost_still_runs(
    redis_behind_dropper: tuple[AgentProcess, ReplyDropper],
) -> None:
    agent, proxy = redis_behind_dropper
    session = new_session()
    # The first ephemeral start loads the script into the server, so the armed one runs it at once.
    warm = start(agent, session, 0.1, retention="ephemeral")["task_id"]
    assert finished(agent, session, warm)["status"] == "COMPLETED"
    proxy.drop_reply_to(hashlib.sha1(CREATE_SCRIPT.encode()).hexdigest().encode())
    started = start(agent, session, 0.3, retention="ephemeral")
    assert proxy.dropped == 1, "the create's reply was not dropped: the test did not test anything"
    assert started["status"] == "RUNNING"
    assert finished(agent, session, started["task_id"])["status"] == "COMPLETED"


def test_an_unanswered_start_without_a_token_is_closed_failed_and_never_runs(
    dynamodb_outage: tuple[AgentProcess, ReplyDropper],
) -> None:
    agent, proxy = dynamodb_outage
    session = new_session()
    unanswered_start(proxy, agent, session)
    answered = time.monotonic()
    seen: list[str] = []

    def closed() -> dict[str, Any] | None:
        tasks = session_tasks(agent, session)
        seen.extend(task["status"] for task in tasks)
        return tasks[0] if len(tasks) == 1 and tasks[0]["status"] == "FAILED" else None

    task = eventually(closed, 15, "the unanswered start to be closed FAILED")
    # Had it run, the 0.3 s task would have completed by now; FAILED is final, so it never will.
    time.sleep(max(0.0, answered + 0.6 - time.monotonic()))
    view = get(agent, session, task["task_id"])
    assert (view["status"], view["error"]["code"]) == ("FAILED", "StartFailed"), view
    assert "result" not in view and view["progress"] == 0
    assert "COMPLETED" not in seen
    assert len(session_tasks(agent, session)) == 1


def test_a_token_retry_after_an_unanswered_start_runs_the_task(
    dynamodb_outage: tuple[AgentProcess, ReplyDropper],
) -> None:
    agent, proxy = dynamodb_outage
    session = new_session()
    unanswered_start(proxy, agent, session, client_token="unanswered-create")
    # Storage answers again: the landed record is visible to the session.
    eventually(lambda: len(session_tasks(agent, session)) == 1, 15, "the landed record to be listed")
    time.sleep(CLIENT_BACKOFF_SECONDS)  # the caller's backoff before retrying: the case under test
    retried = start(agent, session, 0.3, client_token="unanswered-create")
    assert retried.get("status") == "RUNNING", retried
    assert [task["task_id"] for task in session_tasks(agent, session)] == [retried["task_id"]]
    view = finished(agent, session, retried["task_id"])
    assert view["status"] == "COMPLETED", view
