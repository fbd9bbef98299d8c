"""A task whose kind this image does not register (a rollout, a rollback, a changed
``AGENT_EXTRA_KINDS``) waits SUSPENDED, unclaimed and with its reason, until an image that
registers the kind serves the session; then it resumes (or, not resumable, reads LOST).

Agent 1 registers the kinds and ends mid-task (kill -9, or SIGTERM which records SUSPENDED),
agent 2 does not register them, agent 3 does again. On SQLite and on DynamoDB (moto server).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import pytest

from tests.agent.aws import create_resources
from tests.agent.helpers import eventually, get_task, new_session, start_kind
from tests.support.agent_process import FAST_TIMERS, AgentProcess, running_agent
from tests.support.servers import MotoServer

WITH_KINDS: Final = {"AGENT_EXTRA_KINDS": "tests.support.once_kind,tests.support.relay_kind"}
WITHOUT_KINDS: Final = {"AGENT_EXTRA_KINDS": ""}
WORK_SECONDS: Final = 3.0


def _ended(agent: AgentProcess, how: str) -> None:
    if how == "kill":
        agent.kill()
    else:
        agent.stop()


def _suspended_for_unknown_kind(agent: AgentProcess, session: str, task_id: str) -> dict[str, Any]:
    view = eventually(
        lambda: (v := get_task(agent, task_id, session))["status"] != "RUNNING" and v,
        what="the lease to run out",
    )
    assert (view["status"], view["attempt"]) == ("SUSPENDED", 1), view
    assert view["error"]["code"] == "UnknownKind", view
    assert "is not registered in this version" in view["error"]["message"]
    return view


@pytest.fixture(params=["sqlite", "dynamodb"])
def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if request.param == "sqlite":
        return {"AGENT_SQLITE_PATH": str(tmp_path / "tasks.sqlite3")}
    moto: MotoServer = request.getfixturevalue("moto_server")
    return create_resources(moto).env()


@pytest.mark.parametrize("how", ["kill", "sigterm"])
def test_a_task_of_an_unknown_kind_waits_suspended_for_an_image_that_knows_it(
    store_env: dict[str, str], how: str
) -> None:
    session = new_session()
    with running_agent({**FAST_TIMERS, **store_env, **WITH_KINDS}) as agent:
        relay = start_kind(agent, session, "relay", {"duration": WORK_SECONDS})
        once = start_kind(agent, session, "once", {"duration": 60})
        eventually(lambda: get_task(agent, relay, session)["progress"] > 0, what="a first checkpoint")
        _ended(agent, how)

        agent.restart(**WITHOUT_KINDS)
        for _ in range(3):  # reading it again neither claims it nor spends an attempt
            _suspended_for_unknown_kind(agent, session, relay)
        assert agent.ping()["status"] == "Healthy"  # nothing runs here
        _, listing = agent.invoke({"action": "list_tasks"}, session)
        assert {t["task_id"]: (t["status"], t["attempt"]) for t in listing["tasks"]} == {
            relay: ("SUSPENDED", 1),
            once: ("SUSPENDED", 1) if how == "kill" else ("LOST", 1),
        }, listing
        if how == "kill":  # the next image decides whether it resumes
            _suspended_for_unknown_kind(agent, session, once)

        agent.restart(**WITH_KINDS)
        done: Callable[[], dict[str, Any] | None] = lambda: (  # noqa: E731
            (v := get_task(agent, relay, session, wait=5))["status"] == "COMPLETED" and v
        )
        view = eventually(done, 20, what="the resumed task to complete")
        assert view["attempt"] == 2 and "error" not in view, view
        lost = get_task(agent, once, session)
        assert (lost["status"], lost["attempt"], lost["error"]["code"]) == ("LOST", 1, "TaskLost"), lost
