"""The prompt path: a real strands Agent loop in the agent process, driven by a scripted model."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.helpers import eventually, new_session
from tests.support.agent_process import FAST_TIMERS, AgentProcess, running_agent

TASK_ID = re.compile(r"Task ([0-9a-f-]{36}) started\. Poll with get_task_result\(\1\)")


@pytest.fixture(scope="module")
def prompt_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProcess]:
    path: Path = tmp_path_factory.mktemp("prompt") / "tasks.sqlite3"
    env = {
        **FAST_TIMERS,
        "AGENT_SQLITE_PATH": str(path),
        "AGENT_MODEL_FACTORY": "tests.agent.scripted_model:create",
    }
    with running_agent(env) as agent:
        yield agent


def test_seed_prompts_start_a_task_and_fetch_its_result(prompt_agent: AgentProcess) -> None:
    session = new_session()
    status, body = prompt_agent.invoke({"prompt": "start a 1 second task"}, session)
    assert status == 200, body
    match = TASK_ID.search(body["response"])
    assert match, body
    task_id = match.group(1)
    # The tool went through the same engine: the task is visible to the action API.
    status, listing = prompt_agent.invoke({"action": "list_tasks"}, session)
    assert [t["task_id"] for t in listing["tasks"]] == [task_id]

    status, body = prompt_agent.invoke({"prompt": f"get_task_result({task_id})"}, session)
    assert status == 200
    assert f"Task {task_id} is RUNNING" in body["response"] or "Result:" in body["response"]

    def completed() -> str | None:
        status, body = prompt_agent.invoke({"prompt": f"get_task_result({task_id})"}, session)
        assert status == 200
        text: str = body["response"]
        return text if text.startswith("Result:") else None

    assert eventually(completed, timeout=20, interval=0.2) == "Result: Task completed after 1s"


def test_prompt_tools_are_scoped_to_the_session(prompt_agent: AgentProcess) -> None:
    owner = new_session()
    status, body = prompt_agent.invoke({"prompt": "start a 30 second task"}, owner)
    match = TASK_ID.search(body["response"])
    assert match
    status, body = prompt_agent.invoke({"prompt": f"get_task_result({match.group(1)})"}, new_session())
    assert status == 200
    assert body["response"] == f"TaskNotFound: no task {match.group(1)} in this session"


def test_prompt_without_a_tool_call_gets_text(prompt_agent: AgentProcess) -> None:
    status, body = prompt_agent.invoke({"prompt": "hello"}, new_session())
    assert (status, body) == (200, {"response": "I can start a background task or check one."})


def test_every_kind_is_a_tool_so_a_prompt_starts_the_right_kind(prompt_agent: AgentProcess) -> None:
    session = new_session()
    status, body = prompt_agent.invoke({"prompt": "batch upper: first, second"}, session)
    match = TASK_ID.search(body["response"])
    assert (status, bool(match)) == (200, True), body
    assert match is not None
    _status, view = prompt_agent.invoke(
        {"action": "get_task_result", "task_id": match.group(1), "wait_seconds": 20}, session
    )
    assert (view["kind"], view["status"], view["result"]) == ("batch", "COMPLETED", ["FIRST", "SECOND"])
