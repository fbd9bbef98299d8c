"""SIGTERM while the task store is unreachable: the agent still exits within AGENT_STOP_GRACE_SECONDS.

What it could not record is left to the lease, as after a kill: the session's next process resumes
the resumable task and reads the other LOST. Each store is made unreachable the way it fails in
practice: DynamoDB hung (accepts, never answers) or refusing connections, SQLite locked by another
connection, Redis frozen (SIGSTOP: its socket accepts, nothing answers).
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import pytest

from tests.agent.aws import create_resources
from tests.hardening.tasks import get, new_session, start, start_once
from tests.support.agent_process import FAST_TIMERS, SESSION_HEADER, AgentProcess, running_agent
from tests.support.reply_dropper import reply_dropper
from tests.support.servers import MotoServer, RedisServer, running_redis
from tests.support.waiting import eventually

GRACE_SECONDS: Final = 3.0
STOP_GRACE_DEFAULT: Final = 10.0
"""AGENT_STOP_GRACE_SECONDS when unset: longer than the HTTP server's own graceful shutdown."""
SLACK_SECONDS: Final = 1.5
"""Interpreter start-up and teardown around the grace (the process is already gone by then)."""
DYNAMODB_CALLS: Final = b"DynamoDB_20120810."
STOP_ENV: Final = {
    **FAST_TIMERS,
    "AGENT_STOP_GRACE_SECONDS": str(GRACE_SECONDS),
    "AGENT_LOG_LEVEL": "WARNING",
}


def _tasks_under_way(agent: AgentProcess, session: str, **fields: str) -> tuple[str, str]:
    """A resumable task and one that is not, both past their first heartbeat."""
    resumable = start(agent, session, 60, **fields)["task_id"]
    once = start_once(agent, session, 60, **fields)["task_id"]
    eventually(lambda: get(agent, session, resumable)["progress"] > 0, 15, what="a first heartbeat")
    return resumable, once


def _stops_within_grace(agent: AgentProcess) -> None:
    assert agent.process is not None
    agent.process.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    try:
        agent.process.wait(timeout=GRACE_SECONDS + 10)
    except subprocess.TimeoutExpired:
        agent.kill()
        raise AssertionError(f"still running {GRACE_SECONDS + 10:g}s after SIGTERM") from None
    took = time.monotonic() - signalled
    assert took <= GRACE_SECONDS + SLACK_SECONDS, f"took {took:.1f}s to exit"


def _left_to_the_lease(agent: AgentProcess, session: str, resumable: str, once: str) -> None:
    """A fresh process reads what the stopped one could not record as after a kill."""
    resumed = get(agent, session, resumable)
    assert (resumed["status"], resumed["attempt"]) == ("RUNNING", 2), resumed
    lost = get(agent, session, once)
    assert (lost["status"], lost["error"]["code"]) == ("LOST", "TaskLost"), lost


@pytest.mark.parametrize("failure", ["hung", "refused"])
def test_sigterm_exits_within_the_grace_while_dynamodb_is_unreachable(
    moto_server: MotoServer, failure: str
) -> None:
    aws = create_resources(moto_server)
    session = new_session()
    with reply_dropper(moto_server.port) as proxy:
        env = {**STOP_ENV, **aws.env(), "AWS_ENDPOINT_URL": f"http://127.0.0.1:{proxy.port}"}
        with running_agent(env) as agent:
            resumable, once = _tasks_under_way(agent, session)
            if failure == "hung":
                proxy.hold_every(DYNAMODB_CALLS)
            else:
                proxy.refuse_every(DYNAMODB_CALLS)
            _stops_within_grace(agent)
            agent.restart(AWS_ENDPOINT_URL=moto_server.url)
            _left_to_the_lease(agent, session, resumable, once)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Another connection holding the database's write lock (a reader beside the agent gone astray)."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        connection.close()


def test_sigterm_exits_within_the_grace_while_sqlite_is_locked(sqlite_path: Path) -> None:
    session = new_session()
    with running_agent({**STOP_ENV, "AGENT_SQLITE_PATH": str(sqlite_path)}) as agent:
        resumable, once = _tasks_under_way(agent, session)
        with _locked(sqlite_path):
            _stops_within_grace(agent)
        agent.restart()
        _left_to_the_lease(agent, session, resumable, once)


def test_sigterm_exits_within_the_grace_while_redis_is_frozen(sqlite_path: Path) -> None:
    session = new_session()
    with running_redis() as redis_server:
        env = {**STOP_ENV, "AGENT_SQLITE_PATH": str(sqlite_path), "AGENT_REDIS_URL": redis_server.url}
        with running_agent(env) as agent:
            resumable, once = _tasks_under_way(agent, session, retention="ephemeral")
            with _frozen(redis_server):
                _stops_within_grace(agent)
            agent.restart()
            _left_to_the_lease(agent, session, resumable, once)


@contextmanager
def _frozen(server: RedisServer) -> Iterator[None]:
    server.process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        server.process.send_signal(signal.SIGCONT)


def test_a_call_stuck_on_a_hung_store_at_shutdown_answers_shutting_down_not_500(
    moto_server: MotoServer,
) -> None:
    """Found by the nemesis: with the default grace (longer than the HTTP server's own graceful
    shutdown), a call still waiting on a hung store when the server gave up on it got HTTP 500,
    whose body AgentCore drops. It answers ShuttingDown in a 200, so the caller retries."""
    aws = create_resources(moto_server)
    session = new_session()
    with reply_dropper(moto_server.port) as proxy:
        env = {**FAST_TIMERS, **aws.env(), "AWS_ENDPOINT_URL": f"http://127.0.0.1:{proxy.port}"}
        with running_agent(env) as agent, ThreadPoolExecutor(1) as pool:
            task_id = start(agent, session, 60)["task_id"]
            proxy.hold_every(DYNAMODB_CALLS)
            stuck = pool.submit(_raw_invoke, agent, {"action": "list_tasks"}, session)
            eventually(lambda: proxy.held > 0, 10, what="the list call held at the store")
            assert agent.process is not None
            agent.process.send_signal(signal.SIGTERM)
            status, text = stuck.result()
            assert status == 200, (status, text)
            assert json.loads(text)["error"]["code"] == "ShuttingDown", text
            proxy.release()
            agent.process.wait(timeout=STOP_GRACE_DEFAULT + 5)
            assert task_id


def _raw_invoke(agent: AgentProcess, payload: dict[str, str], session: str) -> tuple[int, str]:
    """POST /invocations; (status, body text) whatever the body is."""
    request = urllib.request.Request(
        f"{agent.url}/invocations", data=json.dumps(payload).encode(), method="POST"
    )
    request.add_header("Content-Type", "application/json")
    request.add_header(SESSION_HEADER, session)
    try:
        with urllib.request.urlopen(request, timeout=STOP_GRACE_DEFAULT + 5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode()
