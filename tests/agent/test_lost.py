"""A kill -9 mid-task: a fresh process answers from the store, and work that is not resumable reads LOST."""

from __future__ import annotations

import signal

from tests.agent.aws import create_resources
from tests.agent.conftest import StartAgent
from tests.agent.helpers import eventually, get_task, new_session, start_once, start_task
from tests.support.agent_process import AgentProcess
from tests.support.servers import MotoServer


def _kill_mid_task_then_poll(agent: AgentProcess) -> None:
    session = new_session()
    done_before = start_task(agent, session, duration=0.1)
    assert get_task(agent, done_before, session, wait=20)["status"] == "COMPLETED"
    orphan = start_once(agent, session, 120)
    # Progress is reported in memory at once; a heartbeat that began after one that landed after
    # progress was seen has stored some: wait for two more stored beats.
    seen = eventually(lambda: (view := get_task(agent, orphan, session))["progress"] > 0 and view)
    beat = eventually(
        lambda: (view := get_task(agent, orphan, session))["updated_at"] > seen["updated_at"] and view
    )
    eventually(lambda: get_task(agent, orphan, session)["updated_at"] > beat["updated_at"])
    agent.kill()
    agent.restart()
    assert agent.ping()["status"] == "Healthy"  # the fresh process runs nothing
    # A long poll returns as soon as the lease runs out, well before its wait ends.
    lost = get_task(agent, orphan, session, wait=30)
    assert lost["status"] == "LOST"
    assert lost["error"]["code"] == "TaskLost"
    assert 0 < lost["progress"] < 1
    # The finished task's result survived the kill.
    kept = get_task(agent, done_before, session)
    assert (kept["status"], kept["result"]) == ("COMPLETED", "Task completed after 0.1s")
    # LOST is final: a cancel returns it unchanged.
    status, body = agent.invoke({"action": "cancel_task", "task_id": orphan}, session)
    assert (status, body) == (200, lost)


def test_kill_9_on_sqlite_reads_lost_from_a_fresh_process(start_agent: StartAgent) -> None:
    _kill_mid_task_then_poll(start_agent())


def test_kill_9_on_dynamodb_reads_lost_from_a_fresh_process(
    start_agent: StartAgent, moto_server: MotoServer
) -> None:
    _kill_mid_task_then_poll(start_agent(**create_resources(moto_server).env()))


def test_sigterm_stops_promptly_and_records_unfinished_work_as_lost(start_agent: StartAgent) -> None:
    agent = start_agent()
    session = new_session()
    task_id = start_once(agent, session, 120)
    assert agent.process is not None
    agent.stop(timeout=15)  # SIGTERM: graceful shutdown must not wait for the 120 s of work
    # uvicorn re-raises the signal after its graceful shutdown, so the exit status is -SIGTERM.
    assert agent.process.returncode == -signal.SIGTERM
    messages = [r.get("message") for r in agent.log_records()]
    assert "Application shutdown complete." in messages
    agent.start()
    # Recorded on the way out: the fresh process answers LOST at once, without waiting for the lease.
    body = get_task(agent, task_id, session)
    assert (body["status"], body["error"]["code"]) == ("LOST", "TaskLost")
