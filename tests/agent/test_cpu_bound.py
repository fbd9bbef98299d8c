"""CPU-bound kinds compute in worker processes: /ping stays fast, progress and checkpoints flow back,
and cancelling or stopping the agent ends the worker (the task resumes from its last checkpoint)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.kinds import expected_digest
from tests.agent.helpers import eventually, get_task, new_session
from tests.support.agent_process import FAST_TIMERS, AgentProcess, running_agent

KINDS = "tests.support.once_kind,bench.kinds"


@pytest.fixture
def cpu_agent(tmp_path: Path) -> Iterator[AgentProcess]:
    env = {
        **FAST_TIMERS,
        "AGENT_SQLITE_PATH": str(tmp_path / "tasks.sqlite3"),
        "AGENT_EXTRA_KINDS": KINDS,
        "AGENT_CPU_WORKERS": "2",
    }
    with running_agent(env) as agent:
        yield agent


def _start(agent: AgentProcess, session: str, rounds: int, round_seconds: float = 0.2) -> str:
    payload = {
        "action": "start_task",
        "kind": "spin",
        "input": {"rounds": rounds, "round_seconds": round_seconds},
    }
    status, body = agent.invoke(payload, session)
    assert (status, body.get("status")) == (200, "RUNNING"), body
    return str(body["task_id"])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _workers(agent: AgentProcess) -> list[int]:
    """The worker processes computing right now (children of the agent's fork server)."""
    assert agent.process is not None
    return [worker for server in _children(agent.process.pid) for worker in _children(server)]


def test_two_cpu_bound_tasks_leave_ping_fast_and_report_progress(cpu_agent: AgentProcess) -> None:
    session = new_session()
    tasks = [_start(cpu_agent, session, rounds=10) for _ in range(2)]
    eventually(lambda: get_task(cpu_agent, tasks[0], session)["progress"] > 0, 20, what="a first round")
    latencies = []
    for _ in range(30):
        began = time.perf_counter()
        assert cpu_agent.ping()["status"] == "HealthyBusy"
        latencies.append(time.perf_counter() - began)
    assert sorted(latencies)[-2] < 0.1, latencies  # the event loop never waits on the computing
    for task_id in tasks:
        done = get_task(cpu_agent, task_id, session, wait=30)
        assert done["status"] == "COMPLETED", done
        assert done["result"] == {"rounds": 10, "digest": expected_digest(10), "attempt": 1}
        assert done["message"] == "10 of 10 rounds"


def test_cancel_ends_the_worker(cpu_agent: AgentProcess) -> None:
    session = new_session()
    task_id = _start(cpu_agent, session, rounds=1000)
    eventually(lambda: get_task(cpu_agent, task_id, session)["progress"] > 0, 20, what="a first round")
    assert len(_workers(cpu_agent)) == 1
    status, view = cpu_agent.invoke({"action": "cancel_task", "task_id": task_id}, session)
    assert (status, view["status"]) == (200, "CANCELLED"), view
    eventually(lambda: cpu_agent.ping()["status"] == "Healthy", 10, what="the agent to be idle")
    eventually(lambda: not _workers(cpu_agent), 10, what="the worker process to end")


def test_sigterm_suspends_a_cpu_task_and_the_next_process_resumes_it(cpu_agent: AgentProcess) -> None:
    session = new_session()
    task_id = _start(cpu_agent, session, rounds=15)
    eventually(lambda: get_task(cpu_agent, task_id, session)["progress"] >= 0.2, 20, what="3 rounds")
    cpu_agent.stop()
    cpu_agent.start()
    view = get_task(cpu_agent, task_id, session)
    assert (view["status"], view["attempt"]) == ("RUNNING", 2), view
    done = get_task(cpu_agent, task_id, session, wait=30)
    assert done["status"] == "COMPLETED", done
    assert done["result"] == {"rounds": 15, "digest": expected_digest(15), "attempt": 2}
