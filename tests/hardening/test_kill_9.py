"""kill -9 mid-task (a terminated microVM): work that is not resumable reads LOST within one lease,
nothing finished is lost, and no client token runs twice."""

from __future__ import annotations

import time
from typing import Final

from tests.agent.aws import create_resources
from tests.hardening.tasks import finished, get, list_ids, new_session, start, start_once
from tests.support.agent_process import running_agent
from tests.support.servers import MotoServer
from tests.support.waiting import eventually

HEARTBEAT: Final = 0.5
LEASE: Final = 4.0
SLACK: Final = 2.0
"""Scheduling and polling slack on a busy 2-core machine."""


def test_kill_9_mid_task_loses_nothing_finished_and_never_runs_a_token_twice(moto_server: MotoServer) -> None:
    aws = create_resources(moto_server)
    env = {
        **aws.env(),
        "AGENT_HEARTBEAT_SECONDS": str(HEARTBEAT),
        "AGENT_LEASE_SECONDS": str(LEASE),
        "AGENT_S3_THRESHOLD_BYTES": "1024",
        "AGENT_LOG_LEVEL": "WARNING",
    }
    session = new_session()
    with running_agent(env) as agent:
        done = {
            start(agent, session, 0.1, client_token=f"done-{n}", result_bytes=size)["task_id"]: size
            for n, size in enumerate((None, 100, 50_000))  # inline, inline, S3
        }
        for task_id in done:
            assert finished(agent, session, task_id)["status"] == "COMPLETED"
        long_task = start_once(agent, session, 120, client_token="long-1")["task_id"]
        eventually(lambda: get(agent, session, long_task)["progress"] > 0, 15, what="a first heartbeat")

        retried = start_once(agent, session, 120, client_token="long-1")
        assert (retried["task_id"], retried["status"]) == (long_task, "RUNNING")
        assert agent.ping()["status"] == "HealthyBusy"
        assert sorted(list_ids(agent, session)) == sorted([*done, long_task])

        agent.kill()
        killed_at = time.monotonic()
        agent.restart()
        restart_took = time.monotonic() - killed_at
        assert agent.ping()["status"] == "Healthy"  # the fresh process runs nothing

        # A long poll issued now returns LOST by itself once the lease has run out.
        lost = get(agent, session, long_task, wait=30)
        lost_after = time.monotonic() - killed_at
        assert lost["status"] == "LOST", lost
        assert lost["error"]["code"] == "TaskLost"
        # Within one lease of the last heartbeat (or at once, if the restart itself took longer).
        limit = max(LEASE + HEARTBEAT, restart_took) + SLACK
        assert lost_after <= limit, f"LOST only after {lost_after:.1f}s"

        # Every result the killed process finished is still there, inline or in S3.
        for task_id, size in done.items():
            view = get(agent, session, task_id)
            assert view["status"] == "COMPLETED"
            expected = len("Task completed after 0.1s") if size is None else size
            assert len(view["result"].encode()) == expected

        # Retrying the same starts does not run anything again.
        again = start_once(agent, session, 120, client_token="long-1")
        assert (again["task_id"], again["status"]) == (long_task, "LOST")
        for n, task_id in enumerate(done):
            repeat = start(agent, session, 0.1, client_token=f"done-{n}", result_bytes=done[task_id])
            assert (repeat["task_id"], repeat["status"]) == (task_id, "COMPLETED")
        assert agent.ping()["status"] == "Healthy"
        assert sorted(list_ids(agent, session)) == sorted([*done, long_task])
        time.sleep(HEARTBEAT * 2)
        assert get(agent, session, long_task)["status"] == "LOST"
