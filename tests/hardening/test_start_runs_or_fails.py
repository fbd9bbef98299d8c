"""A start either runs its task or answers an error, also when the store's answer is lost.

The network swallows the reply to the write that creates the task record: the store applied it, the
driver retries, and the retry finds the record already there. That record is ours, so the task must
run; before the fix the agent took its own write for someone else's and never ran the task.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from agent.store.redis_store import CREATE_SCRIPT
from tests.agent.aws import create_resources
from tests.hardening.tasks import finished, new_session, start
from tests.support.agent_process import FAST_TIMERS, AgentProcess, running_agent
from tests.support.reply_dropper import ReplyDropper, reply_dropper
from tests.support.servers import MotoServer, running_redis

QUIET = {**FAST_TIMERS, "AGENT_LOG_LEVEL": "WARNING"}


@pytest.fixture
def dynamodb_behind_dropper(moto_server: MotoServer) -> Iterator[tuple[AgentProcess, ReplyDropper]]:
    aws = create_resources(moto_server)
    with reply_dropper(moto_server.port) as proxy:
        env = {**QUIET, **aws.env(), "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{proxy.port}"}
        with running_agent(env) as agent:
            yield agent, proxy


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
    proxy.drop_reply_to(b"DynamoDB_20120810.PutItem")
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
