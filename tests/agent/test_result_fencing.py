"""An older attempt never changes what readers get: process A is frozen (SIGSTOP) past its lease
with a task whose result goes to S3, process B resumes it as attempt 2 and completes it, then A
wakes, finishes and uploads its own result before it loses its final write. Readers still get
attempt 2's result. On DynamoDB and on SQLite, each with the S3 bucket on a moto server."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any, Final

import pytest

from tests.agent.aws import Records, create_resources
from tests.agent.conftest import StartAgent
from tests.agent.helpers import eventually, get_task, new_session, start_kind
from tests.support.agent_process import AgentProcess
from tests.support.servers import MotoServer

THRESHOLD: Final = 200
SIGNED: Final = {"seconds": 1.5, "padding": 1000}
"""Work that outlasts the freeze of its first process; a result over the threshold (an S3 object)."""
UNHURRIED: Final = {"AGENT_HEARTBEAT_SECONDS": "30", "AGENT_LEASE_SECONDS": "120"}
"""Process A's timers: once it wakes, it finishes its work before its next heartbeat would notice
that the task moved on (so it reaches its upload, as a slower store would let it)."""


@pytest.fixture(params=["dynamodb", "sqlite"])
def env(request: pytest.FixtureRequest, moto_server: MotoServer, tmp_path: Path) -> dict[str, str]:
    records = Records(request.param, create_resources(moto_server), tmp_path / "tasks.sqlite3")
    return {
        **records.env(),
        "AGENT_S3_THRESHOLD_BYTES": str(THRESHOLD),
        "AGENT_EXTRA_KINDS": "tests.agent.signed_kind",
    }


def _pid(agent: AgentProcess) -> int:
    assert agent.process is not None
    return agent.process.pid


def _finished(agent: AgentProcess, session: str, task_id: str) -> dict[str, Any]:
    def final() -> dict[str, Any] | None:
        view = get_task(agent, task_id, session, wait=5)
        return None if view["status"] in ("RUNNING", "SUSPENDED") else view

    return eventually(final, timeout=30, what="the task to finish")


def _lost_its_final_write(agent: AgentProcess) -> bool:
    lost = "record changed elsewhere; outcome not recorded"
    return any(record.get("message") == lost for record in agent.log_records())


def test_a_frozen_older_attempt_never_replaces_the_newer_attempts_result(
    start_agent: StartAgent, env: dict[str, str]
) -> None:
    first = start_agent(**env, **UNHURRIED)
    second = start_agent(**env)
    session = new_session()
    task_id = start_kind(first, session, "signed", SIGNED)
    os.kill(_pid(first), signal.SIGSTOP)
    try:
        done = _finished(second, session, task_id)  # resumed there once the lease ran out
    finally:
        os.kill(_pid(first), signal.SIGCONT)
    assert (done["status"], done["attempt"]) == ("COMPLETED", 2), done
    assert (done["result"]["attempt"], done["result"]["pid"]) == (2, _pid(second))

    eventually(lambda: _lost_its_final_write(first), timeout=15, what="the frozen attempt to finish")

    for reader in (second, first):
        view = get_task(reader, task_id, session)
        assert (view["status"], view["attempt"]) == ("COMPLETED", 2), view
        assert (view["result"]["attempt"], view["result"]["pid"]) == (2, _pid(second))
