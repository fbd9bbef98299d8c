"""Resumable work outlives its microVM: SIGTERM suspends it with its last checkpoint, a kill leaves the
last periodic one, and the session's next microVM resumes it without repeating finished work.

Model-driven kinds run through the real strands loop with the scripted model; every model call is
appended to a file, so a test can count calls across processes and prove no finished turn or item
ran twice.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final

import pytest

from tests.agent.aws import create_resources
from tests.agent.helpers import start_kind
from tests.hardening.tasks import finished, get, new_session, start
from tests.support.agent_process import AgentProcess, running_agent
from tests.support.servers import MotoServer
from tests.support.waiting import eventually

MODEL: Final = {"AGENT_MODEL_FACTORY": "tests.agent.scripted_model:create"}
QUICK: Final = {"AGENT_HEARTBEAT_SECONDS": "0.2", "AGENT_LEASE_SECONDS": "1", "AGENT_LOG_LEVEL": "INFO"}
ITEMS: Final = [f"item number {n}" for n in range(8)]
STEPS: Final = 6


def _stored(sqlite_path: Path, task_id: str) -> dict[str, Any]:
    with sqlite3.connect(sqlite_path) as db:
        (text,) = db.execute("SELECT record FROM tasks WHERE task_id = ?", (task_id,)).fetchone()
    record: dict[str, Any] = json.loads(text)
    return record


def test_sigterm_suspends_a_sleep_and_the_next_process_resumes_where_it_stopped(sqlite_path: Path) -> None:
    session = new_session()
    # A long lease: SUSPENDED must be recorded on the way out, not derived from a stale heartbeat.
    env = {**QUICK, "AGENT_LEASE_SECONDS": "30", "AGENT_SQLITE_PATH": str(sqlite_path)}
    with running_agent(env) as agent:
        status, body = agent.invoke({"action": "start_background_task", "duration": 6}, session)
        assert status == 200, body
        task_id = body["task_id"]
        eventually(lambda: get(agent, session, task_id)["progress"] >= 0.5, 15, what="3 s of work")
        assert agent.process is not None
        agent.process.send_signal(signal.SIGTERM)
        agent.process.wait(timeout=10)

        stored = _stored(sqlite_path, task_id)
        assert (stored["status"], stored["attempt"]) == ("SUSPENDED", 1)
        done_before = json.loads(stored["checkpoint"])["done"]
        assert done_before >= 3.0

        agent.start()
        began = time.monotonic()
        view = get(agent, session, task_id)  # the session's first invocation resumes it
        assert (view["status"], view["attempt"]) == ("RUNNING", 2), view
        assert view["progress"] >= 0.5
        done = finished(agent, session, task_id)
        took = time.monotonic() - began
        assert (done["status"], done["result"], done["attempt"]) == (
            "COMPLETED",
            "Task completed after 6s",
            2,
        )
        assert took < 6 - done_before + 2, f"resumed work took {took:.1f}s: it started over"


@pytest.fixture(params=["sqlite", "dynamodb+s3"])
def store_env(request: pytest.FixtureRequest, sqlite_path: Path) -> dict[str, str]:
    if request.param == "sqlite":
        return {"AGENT_SQLITE_PATH": str(sqlite_path)}
    moto: MotoServer = request.getfixturevalue("moto_server")
    # A low threshold sends the growing checkpoints (and results) to S3.
    return {**create_resources(moto).env(), "AGENT_S3_THRESHOLD_BYTES": "1024"}


KILL_CASES: Final = {
    "batch": (
        {"instruction": "upper", "items": ITEMS},
        [item.upper() for item in ITEMS],
        len(ITEMS),
    ),
    "agent_run": (
        {"instructions": f"take {STEPS} steps of 0.2 seconds", "max_steps": 20},
        f"done after {STEPS} steps",
        STEPS + 1,
    ),
}


@pytest.mark.parametrize("kind", sorted(KILL_CASES))
def test_kill_9_mid_run_resumes_without_repeating_finished_work(
    store_env: dict[str, str], tmp_path: Path, kind: str
) -> None:
    task_input, expected, uninterrupted_calls = KILL_CASES[kind]
    calls = tmp_path / "model-calls.txt"
    env = {**QUICK, **MODEL, **store_env, "SCRIPTED_MODEL_SECONDS": "0.3", "SCRIPTED_MODEL_CALLS": str(calls)}
    session = new_session()
    with running_agent(env) as agent:
        task_id = start_kind(agent, session, kind, task_input)
        eventually(lambda: get(agent, session, task_id)["progress"] >= 0.3, 30, what="some finished work")
        agent.kill()
        agent.restart()
        done = finished(agent, session, task_id, timeout=60)
    assert (done["status"], done["attempt"]) == ("COMPLETED", 2), done
    assert done["result"] == expected
    made = len(calls.read_text().splitlines())
    # Only the turn or item in flight at the kill may run twice.
    assert uninterrupted_calls <= made <= uninterrupted_calls + 1, f"{made} model calls"


def test_two_processes_racing_to_resume_one_task_run_it_once(store_env: dict[str, str]) -> None:
    env = {**QUICK, **store_env}
    session = new_session()
    with running_agent(env) as first:
        task_id = start(first, session, 3)["task_id"]
        eventually(lambda: get(first, session, task_id)["progress"] > 0, 15, what="a heartbeat")
        first.kill()
    with running_agent(env) as left, running_agent(env) as right:
        # Both see the lease run out and both try to take the next attempt at the same moment.
        with ThreadPoolExecutor(max_workers=2) as pool:
            views = list(pool.map(lambda agent: get(agent, session, task_id, wait=20), (left, right)))
        assert all(view["status"] == "COMPLETED" for view in views), views
        resumed = [
            record
            for agent in (left, right)
            for record in agent.log_records()
            if record.get("message") == "task resumed"
        ]
        assert len(resumed) == 1, resumed
        assert resumed[0]["attempt"] == 2
        assert {view["attempt"] for view in views} == {2}


@pytest.fixture
def resume_limit_agent(sqlite_path: Path) -> Iterator[AgentProcess]:
    with running_agent({**QUICK, "AGENT_SQLITE_PATH": str(sqlite_path), "AGENT_MAX_ATTEMPTS": "2"}) as agent:
        yield agent


def test_a_task_resumed_too_often_fails_with_resume_limit(resume_limit_agent: AgentProcess) -> None:
    agent = resume_limit_agent
    session = new_session()
    task_id = start(agent, session, 60)["task_id"]
    for attempt in (1, 2):
        eventually(
            lambda a=attempt: (v := get(agent, session, task_id))["attempt"] == a and v["progress"] > 0,
            15,
            what=f"attempt {attempt} at work",
        )
        agent.kill()
        agent.restart()
    failed = finished(agent, session, task_id)
    assert (failed["status"], failed["error"]["code"], failed["attempt"]) == ("FAILED", "ResumeLimit", 2)


def test_cancelling_a_suspended_task_works(sqlite_path: Path) -> None:
    session = new_session()
    env = {**QUICK, "AGENT_LEASE_SECONDS": "30", "AGENT_SQLITE_PATH": str(sqlite_path)}
    with running_agent(env) as agent:
        task_id = start(agent, session, 60)["task_id"]
        eventually(lambda: get(agent, session, task_id)["progress"] > 0, 15, what="a heartbeat")
        agent.stop()  # SIGTERM: suspended
        assert _stored(sqlite_path, task_id)["status"] == "SUSPENDED"
        agent.start()
        status, view = agent.invoke({"action": "cancel_task", "task_id": task_id}, session)
        assert (status, view["status"]) == (200, "CANCELLED"), view
        assert agent.ping()["status"] == "Healthy"
        assert get(agent, session, task_id)["status"] == "CANCELLED"
