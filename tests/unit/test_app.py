"""The payload API in-process: the bad-input table, the happy paths and the kinds, on the memory store."""

from __future__ import annotations

import pytest

from tests.hardening.bad_inputs import AGENT_BAD_INPUTS, BadInput
from tests.unit.conftest import Agent

pytestmark = pytest.mark.unit
SESSION_HEADER_CASES = {"session id too long"}


@pytest.mark.parametrize("case", AGENT_BAD_INPUTS, ids=lambda case: case.name)
def test_every_bad_input_is_a_named_error_in_a_200(agent: Agent, case: BadInput) -> None:
    headers = {"Content-Type": "application/json", **case.headers}
    if case.name not in SESSION_HEADER_CASES:
        headers.setdefault(
            "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id", "unit-session-000000000000000000000002"
        )
    response = agent.client.post("/invocations", content=case.body, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == case.code
    assert case.mentions in body["error"]["message"]
    assert "Traceback" not in response.text


def test_start_poll_list_cancel(agent: Agent) -> None:
    quick = agent.invoke({"action": "start_background_task", "duration": 0.1})
    slow = agent.invoke({"action": "start_task", "kind": "sleep", "input": {"duration": 60}})
    done = agent.invoke({"action": "get_task_result", "task_id": quick["task_id"], "wait_seconds": 5})
    assert (done["status"], done["result"], done["kind"]) == (
        "COMPLETED",
        "Task completed after 0.1s",
        "sleep",
    )
    listing = agent.invoke({"action": "list_tasks", "limit": 1})
    assert [task["task_id"] for task in listing["tasks"]] == [slow["task_id"]]  # type: ignore[index]
    assert listing["next_cursor"]
    cancelled = agent.invoke({"action": "cancel_task", "task_id": slow["task_id"]})
    assert (cancelled["status"], cancelled["error"]) == (
        "CANCELLED",
        {"code": "Cancelled", "message": "cancelled by request"},
    )
    again = agent.invoke({"action": "cancel_task", "task_id": slow["task_id"]})
    assert again == cancelled  # final states never change


def test_client_token_start_is_idempotent_and_conflicts_on_other_input(agent: Agent) -> None:
    first = agent.invoke({"action": "start_background_task", "duration": 30, "client_token": "t-1"})
    again = agent.invoke({"action": "start_background_task", "duration": 30, "client_token": "t-1"})
    assert again["task_id"] == first["task_id"]
    other = agent.invoke({"action": "start_background_task", "duration": 31, "client_token": "t-1"})
    assert other["error"]["code"] == "ClientTokenConflict"  # type: ignore[index]


def test_sessions_never_see_each_other(agent: Agent) -> None:
    task = agent.invoke(
        {"action": "start_background_task", "duration": 30}, session="unit-owner-00000000000000000000000000"
    )
    other = agent.invoke(
        {"action": "get_task_result", "task_id": task["task_id"]},
        session="unit-other-0000000000000000000000000",
    )
    assert other["error"]["code"] == "TaskNotFound"  # type: ignore[index]


def test_list_kinds_describes_every_kind_with_its_schema(agent: Agent) -> None:
    kinds = {kind["name"]: kind for kind in agent.invoke({"action": "list_kinds"})["kinds"]}  # type: ignore[union-attr]
    assert {"sleep", "agent_run", "batch", "once"} <= set(kinds)
    assert kinds["sleep"]["resumable"] is True and kinds["once"]["resumable"] is False
    assert kinds["batch"]["input_schema"]["required"] == ["instruction", "items"]


def test_ping_reports_busy_while_work_runs(agent: Agent) -> None:
    assert agent.client.get("/ping").json()["status"] == "Healthy"
    task = agent.invoke({"action": "start_background_task", "duration": 30})
    busy = agent.client.get("/ping").json()
    assert busy["status"] == "HealthyBusy"
    agent.invoke({"action": "cancel_task", "task_id": task["task_id"]})
    idle = agent.client.get("/ping").json()
    assert idle["status"] == "Healthy" and idle["time_of_last_update"] >= busy["time_of_last_update"]
