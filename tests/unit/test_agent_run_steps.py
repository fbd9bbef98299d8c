"""``agent_run``'s ``max_steps``: a model that keeps asking for tools is stopped after exactly that
many model turns, counted across resumes, and the task fails with ``StepLimit``. In-process, on the
memory store, with the scripted model (real strands agent loop, real tools)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from agent.kinds.agent_run import AgentRunInput
from agent.records import TaskRecord, TaskStatus
from agent.store.memory import MemoryStore
from tests.agent.scripted_model import recorded_calls
from tests.unit.conftest import UNIT_ENV, Agent

pytestmark = pytest.mark.unit
ENV = {**UNIT_ENV, "AGENT_MODEL_FACTORY": "tests.agent.scripted_model:create"}
SESSION = "unit-steps-000000000000000000000000001"
ENDLESS = "take 50 steps of 0 seconds"
"""The scripted model calls ``wait_seconds`` once per turn until it made 50 calls."""


@pytest.fixture
def model_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A file the scripted model appends one line to per call."""
    calls = tmp_path / "model-calls.txt"
    calls.touch()
    monkeypatch.setenv("SCRIPTED_MODEL_CALLS", str(calls))
    return calls


@pytest.fixture
def unit_env() -> Mapping[str, str]:
    return ENV


def _finished(agent: Agent, task_id: str) -> dict[str, Any]:
    payload = {"action": "get_task_result", "task_id": task_id, "wait_seconds": 20}
    view = agent.invoke(payload, session=SESSION)
    assert view["status"] != "RUNNING", view
    return view


def _run(agent: Agent, max_steps: int, instructions: str = ENDLESS) -> dict[str, Any]:
    started = agent.invoke(
        {
            "action": "start_task",
            "kind": "agent_run",
            "input": {"instructions": instructions, "max_steps": max_steps},
        },
        session=SESSION,
    )
    assert started["status"] == "RUNNING", started
    return _finished(agent, str(started["task_id"]))


@pytest.mark.parametrize("max_steps", [1, 4])
def test_a_model_that_never_answers_fails_with_step_limit_after_max_steps_calls(
    agent: Agent, model_calls: Path, max_steps: int
) -> None:
    failed = _run(agent, max_steps)
    assert (failed["status"], failed["error"]) == (
        "FAILED",
        {"code": "StepLimit", "message": f"no answer within max_steps ({max_steps})"},
    )
    assert len(recorded_calls(model_calls)) == max_steps
    assert failed["message"] == f"{max_steps} of at most {max_steps} steps"


def test_an_answer_on_the_last_allowed_step_completes(agent: Agent, model_calls: Path) -> None:
    # Three tool calls and then the answer: four model turns, exactly the limit.
    done = _run(agent, 4, "take 3 steps of 0 seconds")
    assert (done["status"], done["result"]) == ("COMPLETED", "done after 3 steps")
    assert len(recorded_calls(model_calls)) == 4


def _conversation(steps: int) -> list[dict[str, Any]]:
    """What agent_run checkpoints after ``steps`` tool-calling turns of the scripted model."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": [{"text": ENDLESS}]}]
    for step in range(steps):
        tool_use_id = f"tooluse_{step:012d}"
        messages += [
            {
                "role": "assistant",
                "content": [
                    {"toolUse": {"toolUseId": tool_use_id, "name": "wait_seconds", "input": {"seconds": 0}}}
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "toolResult": {
                            "toolUseId": tool_use_id,
                            "status": "success",
                            "content": [{"text": "waited 0 seconds"}],
                        }
                    }
                ],
            },
        ]
    return messages


def _suspended(store: MemoryStore, max_steps: int, steps_done: int) -> str:
    """A suspended agent_run whose checkpoint already holds ``steps_done`` model turns."""
    now = time.time()
    record = TaskRecord(
        session_id=SESSION,
        task_id=str(uuid.uuid4()),
        status=TaskStatus.SUSPENDED,
        kind="agent_run",
        input_json=AgentRunInput(instructions=ENDLESS, max_steps=max_steps).model_dump_json(),
        created_at=now,
        updated_at=now,
        heartbeat_at=now,
        expires_at=int(now + 3600),
        checkpoint=json.dumps({"messages": _conversation(steps_done)}),
    )
    store.create(record)
    return record.task_id


@pytest.mark.parametrize(("steps_done", "calls_left"), [(2, 1), (3, 0)])
def test_max_steps_counts_the_turns_of_earlier_attempts(
    stored_agent: Agent, store: MemoryStore, model_calls: Path, steps_done: int, calls_left: int
) -> None:
    task_id = _suspended(store, max_steps=3, steps_done=steps_done)
    failed = _finished(stored_agent, task_id)  # the poll finds it suspended and resumes it
    assert (failed["status"], failed["attempt"], failed["error"]["code"]) == ("FAILED", 2, "StepLimit")
    assert len(recorded_calls(model_calls)) == calls_left
