"""Final states never change, including LOST, which a reader derives from a stale heartbeat.

Once any caller has been told a task is LOST, it stays LOST: a cancel returns it as is, and a process
that was merely frozen (not dead) cannot turn it into COMPLETED when it wakes up.
"""

from __future__ import annotations

import signal
from pathlib import Path

from tests.hardening.tasks import get, new_session, start_once
from tests.support.agent_process import FAST_TIMERS, running_agent
from tests.support.waiting import eventually

QUIET = {**FAST_TIMERS, "AGENT_LOG_LEVEL": "WARNING"}


def test_cancel_returns_a_lost_task_unchanged(sqlite_path: Path) -> None:
    session = new_session()
    with running_agent({**QUIET, "AGENT_SQLITE_PATH": str(sqlite_path)}) as agent:
        task_id = start_once(agent, session, 60)["task_id"]
        eventually(lambda: get(agent, session, task_id)["progress"] > 0, 15, what="a first heartbeat")
        agent.kill()
        agent.restart()
        lost = eventually(
            lambda: (view := get(agent, session, task_id))["status"] == "LOST" and view, 15, what="LOST"
        )
        status, cancelled = agent.invoke({"action": "cancel_task", "task_id": task_id}, session)
        assert (status, cancelled["status"], cancelled["error"]["code"]) == (200, "LOST", "TaskLost")
        assert get(agent, session, task_id) == lost


def test_a_frozen_process_cannot_revive_a_task_read_as_lost(sqlite_path: Path) -> None:
    """Two processes share one store; the one running the task is frozen past the lease."""
    session = new_session()
    env = {**QUIET, "AGENT_SQLITE_PATH": str(sqlite_path)}
    with running_agent(env) as worker, running_agent(env) as reader:
        task_id = start_once(worker, session, 2.0)["task_id"]
        eventually(lambda: get(reader, session, task_id)["progress"] > 0, 15, what="a first heartbeat")
        assert worker.process is not None
        worker.process.send_signal(signal.SIGSTOP)
        try:
            lost = eventually(
                lambda: (view := get(reader, session, task_id))["status"] == "LOST" and view,
                15,
                what="the reader to see LOST",
            )
        finally:
            worker.process.send_signal(signal.SIGCONT)
        # The worker wakes up with its work done (or superseded); either way it stops being busy.
        eventually(lambda: worker.ping()["status"] == "Healthy", 15, what="the worker to settle")
        assert get(reader, session, task_id)["status"] == "LOST"
        assert get(worker, session, task_id)["status"] == "LOST"
        assert get(reader, session, task_id)["error"] == lost["error"]
