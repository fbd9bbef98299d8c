"""SIGTERM mid-task (what AgentCore sends before it reclaims a microVM).

The agent records its in-flight work that is not resumable as LOST before it exits, inside the grace
period, so the session's next microVM answers a poll at once instead of after the heartbeat lease
runs out. (Resumable work is suspended instead: see ``test_resume.py``.)
The lease here is long (30 s) on purpose: without the marking, polls would read RUNNING for that long.
"""

from __future__ import annotations

import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final

from tests.emulator.harness import running_emulator
from tests.hardening.tasks import get, new_session, start, start_once
from tests.support.agent_process import running_agent
from tests.support.waiting import eventually

LONG_LEASE: Final = {
    "AGENT_HEARTBEAT_SECONDS": "0.5",
    "AGENT_LEASE_SECONDS": "30",
    "AGENT_LOG_LEVEL": "WARNING",
}
GRACE_SECONDS: Final = 5.0
"""How long a terminated process may take to exit before it would be killed."""


def test_sigterm_marks_in_flight_tasks_lost_before_exiting(sqlite_path: Path) -> None:
    session = new_session()
    with running_agent({**LONG_LEASE, "AGENT_SQLITE_PATH": str(sqlite_path)}) as agent:
        done = start(agent, session, 0.1)["task_id"]
        in_flight = [start_once(agent, session, 120)["task_id"] for _ in range(3)]
        eventually(
            lambda: get(agent, session, done, wait=5)["status"] == "COMPLETED", 15, what="the short task"
        )
        eventually(lambda: get(agent, session, in_flight[0])["progress"] > 0, 15, what="a first heartbeat")

        assert agent.process is not None
        agent.process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        # uvicorn re-raises the signal after its graceful shutdown: -SIGTERM is a clean exit here.
        assert agent.process.wait(timeout=GRACE_SECONDS + 5) in (0, -signal.SIGTERM)
        assert time.monotonic() - signalled <= GRACE_SECONDS

        agent.restart()
        began = time.monotonic()
        for task_id in in_flight:
            view = get(agent, session, task_id, wait=20)
            assert view["status"] == "LOST", view
            assert view["error"]["code"] == "TaskLost"
        assert time.monotonic() - began < 5, "polls waited for the lease instead of reading the mark"
        assert get(agent, session, done)["status"] == "COMPLETED"
        # The mark is final: a retried cancel or a later poll does not revive the task.
        status, body = agent.invoke({"action": "cancel_task", "task_id": in_flight[0]}, session)
        assert (status, body["status"]) == (200, "LOST")


def test_stop_runtime_session_through_the_emulator_leaves_no_task_running() -> None:
    flags = ("--idle-timeout", "60", "--max-lifetime", "600", "--ping-interval", "0.5")
    with running_emulator(*flags, "--stop-grace", str(GRACE_SECONDS), env=LONG_LEASE) as emulator:
        session = new_session()
        client = emulator.boto()

        def invoke(payload: dict[str, object]) -> dict[str, object]:
            response = client.invoke_agent_runtime(
                agentRuntimeArn=emulator.arn, runtimeSessionId=session, payload=json.dumps(payload)
            )
            body: dict[str, object] = json.loads(response["response"].read())
            return body

        task_id = invoke({"action": "start_task", "kind": "once", "input": {"duration": 120}})["task_id"]
        emulator.row_when(session, lambda row: row["ping_status"] == "HealthyBusy", 15)
        client.stop_runtime_session(agentRuntimeArn=emulator.arn, runtimeSessionId=session)
        ended = emulator.row_when(session, lambda row: row["state"] == "ended", 15)
        assert ended["end_reason"] == "stopped"

        began = time.monotonic()
        view = invoke({"action": "get_task_result", "task_id": task_id, "wait_seconds": 20})
        assert view["status"] == "LOST", view
        assert time.monotonic() - began < 20  # answered before the long poll would have run out
        assert len(emulator.rows(session)) == 2  # the poll ran on a fresh microVM


def test_sigterm_answers_pending_long_polls_and_records_the_tasks(sqlite_path: Path) -> None:
    """Long-polls pending at SIGTERM get a JSON answer at once; the tasks are recorded before exit."""
    session = new_session()
    with running_agent({**LONG_LEASE, "AGENT_SQLITE_PATH": str(sqlite_path)}) as agent:
        task_ids = [start_once(agent, session, 120)["task_id"] for _ in range(3)]
        with ThreadPoolExecutor(max_workers=len(task_ids)) as pool:
            polls = [
                pool.submit(
                    agent.invoke,
                    {"action": "get_task_result", "task_id": task_id, "wait_seconds": 30},
                    session,
                    40,
                )
                for task_id in task_ids
            ]
            # A request sent after the polls is answered only once the event loop has read them.
            status, _ = agent.invoke({"action": "list_tasks"}, session)
            assert status == 200 and not any(poll.done() for poll in polls)

            assert agent.process is not None
            agent.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            answers = [poll.result(timeout=GRACE_SECONDS) for poll in polls]
            assert agent.process.wait(timeout=GRACE_SECONDS) in (0, -signal.SIGTERM)
            exited_after = time.monotonic() - signalled
        for status, body in answers:
            assert status == 200, body
            assert body["status"] in ("RUNNING", "LOST"), body
        assert exited_after < 3, f"took {exited_after:.1f}s to exit"

        agent.restart()
        for task_id in task_ids:
            assert get(agent, session, task_id)["status"] == "LOST"
