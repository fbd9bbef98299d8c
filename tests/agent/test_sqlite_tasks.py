"""Task lifecycle over HTTP against a real agent process on the embedded SQLite store."""

from __future__ import annotations

import time
import uuid

from tests.agent.conftest import StartAgent
from tests.agent.helpers import eventually, get_task, new_session, start_task
from tests.support.agent_process import AgentProcess


def test_start_answers_at_once_with_a_uuid4_and_running(agent: AgentProcess) -> None:
    began = time.monotonic()
    status, body = agent.invoke({"action": "start_background_task", "duration": 30})
    elapsed = time.monotonic() - began
    assert status == 200
    assert set(body) == {"task_id", "status"}
    assert body["status"] == "RUNNING"
    assert uuid.UUID(body["task_id"]).version == 4
    assert elapsed < 5  # answered long before the 30 s of work


def test_task_completes_with_the_seed_result_and_progress(agent: AgentProcess) -> None:
    task_id = start_task(agent, duration=1)
    running = get_task(agent, task_id)
    assert running["status"] == "RUNNING"
    assert 0 <= running["progress"] < 1
    done = get_task(agent, task_id, wait=20)
    assert done["status"] == "COMPLETED"
    assert done["result"] == "Task completed after 1s"
    assert done["progress"] == 1.0
    assert done["updated_at"] >= done["created_at"]
    assert "error" not in done
    finished = [
        r for r in agent.log_records() if r.get("message") == "task finished" and r["task_id"] == task_id
    ]
    assert len(finished) == 1
    assert finished[0]["session_id"]
    assert finished[0]["status"] == "COMPLETED"
    assert finished[0]["elapsed_s"] >= 1


def test_progress_is_reported_while_running(agent: AgentProcess) -> None:
    task_id = start_task(agent, duration=3)
    progressed = eventually(lambda: (b := get_task(agent, task_id))["progress"] > 0 and b)
    assert progressed["status"] == "RUNNING"
    assert progressed["progress"] < 1


def test_result_bytes_sets_the_result_size(agent: AgentProcess) -> None:
    task_id = start_task(agent, duration=0.2, result_bytes=5000)
    done = get_task(agent, task_id, wait=20)
    assert done["status"] == "COMPLETED"
    assert len(done["result"].encode()) == 5000
    assert done["result"].startswith("Task completed after 0.2s\n")


def test_long_poll_returns_as_soon_as_the_task_finishes(agent: AgentProcess) -> None:
    task_id = start_task(agent, duration=1)
    began = time.monotonic()
    done = get_task(agent, task_id, wait=30)
    assert done["status"] == "COMPLETED"
    assert time.monotonic() - began < 20  # far sooner than the 30 s wait


def test_long_poll_on_a_running_task_returns_when_the_wait_ends(agent: AgentProcess) -> None:
    task_id = start_task(agent, duration=60)
    began = time.monotonic()
    body = get_task(agent, task_id, wait=0.5)
    assert body["status"] == "RUNNING"
    assert time.monotonic() - began >= 0.5


def test_idempotent_retry_returns_the_same_task(agent: AgentProcess) -> None:
    session = new_session()
    first = start_task(agent, session, duration=1, client_token="retry-me-1")
    second = start_task(agent, session, duration=1, client_token="retry-me-1")
    assert first == second
    status, listing = agent.invoke({"action": "list_tasks"}, session)
    assert status == 200
    assert [t["task_id"] for t in listing["tasks"]] == [first]
    # The same token in another session is another task.
    other = start_task(agent, new_session(), duration=1, client_token="retry-me-1")
    assert other != first


def test_retry_after_completion_reports_the_finished_task(agent: AgentProcess) -> None:
    session = new_session()
    task_id = start_task(agent, session, duration=0.2, client_token="done-token")
    assert get_task(agent, task_id, session, wait=20)["status"] == "COMPLETED"
    status, body = agent.invoke(
        {"action": "start_background_task", "duration": 0.2, "client_token": "done-token"}, session
    )
    assert (status, body) == (200, {"task_id": task_id, "status": "COMPLETED"})


def test_reusing_a_client_token_with_other_parameters_conflicts(agent: AgentProcess) -> None:
    session = new_session()
    start_task(agent, session, duration=5, client_token="tok")
    status, body = agent.invoke(
        {"action": "start_background_task", "duration": 6, "client_token": "tok"}, session
    )
    assert (status, body["error"]["code"]) == (200, "ClientTokenConflict")


def test_cancel_stops_a_running_task_and_is_final(agent: AgentProcess) -> None:
    task_id = start_task(agent, duration=60)
    status, body = agent.invoke({"action": "cancel_task", "task_id": task_id})
    assert status == 200
    assert body["status"] == "CANCELLED"
    assert body["error"]["code"] == "Cancelled"
    # Cancelling again changes nothing.
    status, again = agent.invoke({"action": "cancel_task", "task_id": task_id})
    assert (status, again["status"], again["updated_at"]) == (200, "CANCELLED", body["updated_at"])


def test_cancel_of_a_finished_task_leaves_it_completed(agent: AgentProcess) -> None:
    task_id = start_task(agent, duration=0.2)
    get_task(agent, task_id, wait=20)
    status, body = agent.invoke({"action": "cancel_task", "task_id": task_id})
    assert (status, body["status"]) == (200, "COMPLETED")
    assert body["result"] == "Task completed after 0.2s"


def test_sessions_are_isolated(agent: AgentProcess) -> None:
    alice, bob = new_session(), new_session()
    task_id = start_task(agent, alice, duration=0.2)
    for action in ("get_task_result", "cancel_task"):
        status, body = agent.invoke({"action": action, "task_id": task_id}, bob)
        assert status == 200
        assert body == {"error": {"code": "TaskNotFound", "message": f"no task {task_id} in this session"}}
    status, listing = agent.invoke({"action": "list_tasks"}, bob)
    assert (status, listing["tasks"]) == (200, [])


def test_unknown_task_is_not_found(agent: AgentProcess) -> None:
    status, body = agent.invoke({"action": "get_task_result", "task_id": str(uuid.uuid4())})
    assert status == 200
    assert body["error"]["code"] == "TaskNotFound"


def test_list_is_newest_first_and_paginated(agent: AgentProcess) -> None:
    session = new_session()
    ids = [start_task(agent, session, duration=0.1) for _ in range(5)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        payload: dict[str, object] = {"action": "list_tasks", "limit": 2}
        if cursor:
            payload["cursor"] = cursor
        status, page = agent.invoke(payload, session)
        assert status == 200
        assert len(page["tasks"]) <= 2
        seen += [t["task_id"] for t in page["tasks"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    assert pages == 3


def test_results_survive_a_restart(start_agent: StartAgent) -> None:
    agent = start_agent()
    task_id = start_task(agent, duration=0.2)
    assert get_task(agent, task_id, wait=20)["status"] == "COMPLETED"
    agent.restart()
    body = get_task(agent, task_id)
    assert (body["status"], body["result"]) == ("COMPLETED", "Task completed after 0.2s")


def test_missing_session_header_uses_the_local_session_and_logs_it(agent: AgentProcess) -> None:
    task_id = start_task(agent, session=None, duration=0.1)  # type: ignore[arg-type]
    assert get_task(agent, task_id, session=None, wait=20)["status"] == "COMPLETED"  # type: ignore[arg-type]
    warnings = [r for r in agent.log_records() if "no session header" in r.get("message", "")]
    assert warnings
    assert warnings[0]["session_id"].startswith("local-session")


def test_memory_store_serves_but_forgets_on_restart(start_agent: StartAgent) -> None:
    agent = start_agent(AGENT_STORE_BACKEND="memory", AGENT_ALLOW_MEMORY_STORE="true")
    task_id = start_task(agent, duration=0.1)
    assert get_task(agent, task_id, wait=20)["status"] == "COMPLETED"
    agent.restart()
    status, body = agent.invoke({"action": "get_task_result", "task_id": task_id})
    assert (status, body["error"]["code"]) == (200, "TaskNotFound")


def test_large_inline_result_on_sqlite(agent: AgentProcess) -> None:
    session = new_session()
    task_id = start_task(agent, session, duration=0.1, result_bytes=300_000)
    done = get_task(agent, task_id, session, wait=20)
    assert done["status"] == "COMPLETED"
    assert len(done["result"]) == 300_000
    assert agent.ping()["status"] in {"Healthy", "HealthyBusy"}
