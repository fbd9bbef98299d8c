"""The client library against the emulator: start, long-poll wait, backoff, cancel, list."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

from client.api import AgentClient, WaitTimeout
from client.backoff import Backoff
from client.errors import AgentError, TaskNotFound
from client.models import TaskResult, TaskStatus
from tests.emulator.harness import RunningEmulator


def counting_client(
    emulator: RunningEmulator, session_id: str, **kwargs: Any
) -> tuple[AgentClient, list[str]]:
    """A client whose boto3 client records every InvokeAgentRuntime call it sends."""
    boto = emulator.boto()
    calls: list[str] = []
    boto.meta.events.register(
        "before-call.bedrock-agentcore.InvokeAgentRuntime", lambda **_: calls.append("invoke")
    )
    return AgentClient(boto, runtime_arn=emulator.arn, session_id=session_id, **kwargs), calls


def test_wait_sees_completion_within_one_long_poll(emulator: RunningEmulator, session_id: str) -> None:
    client, calls = counting_client(emulator, session_id, long_poll_seconds=20)
    task_id = client.start(1.5)
    calls.clear()
    seen: list[TaskResult] = []
    done = client.wait(task_id, timeout=30, on_update=seen.append)
    assert done.status is TaskStatus.COMPLETED
    assert done.progress == 1.0
    assert calls == ["invoke"]  # one held poll, answered as the task finished
    assert [result.status for result in seen] == [TaskStatus.COMPLETED]


def test_wait_backs_off_between_polls_that_are_not_held(emulator: RunningEmulator, session_id: str) -> None:
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(seconds)

    backoff = Backoff(base=0.05, cap=0.4, rng=random.Random(1))
    client, calls = counting_client(emulator, session_id, long_poll_seconds=0, backoff=backoff, sleep=sleep)
    task_id = client.start(1.5)
    calls.clear()
    done = client.wait(task_id, timeout=30)
    assert done.status is TaskStatus.COMPLETED
    assert len(sleeps) == len(calls) - 1  # a pause between consecutive polls, none after the last
    assert all(0 <= pause <= 0.4 for pause in sleeps)
    assert len(calls) < 60  # backoff, not a busy loop


def test_wait_times_out_with_the_last_state(emulator: RunningEmulator, session_id: str) -> None:
    client = emulator.agent_client(session_id, long_poll_seconds=20)
    task_id = client.start(30)
    began = time.monotonic()
    with pytest.raises(WaitTimeout) as caught:
        client.wait(task_id, timeout=1.5)
    assert time.monotonic() - began < 15  # gave up instead of holding the 20 s poll
    assert caught.value.last is not None
    assert caught.value.last.status is TaskStatus.RUNNING
    client.cancel(task_id)


def test_cancel_ends_the_task_as_cancelled(emulator: RunningEmulator, session_id: str) -> None:
    client = emulator.agent_client(session_id)
    task_id = client.start(30)
    client.cancel(task_id)
    assert client.wait(task_id, timeout=20).status is TaskStatus.CANCELLED


def test_client_token_retries_return_the_same_task(emulator: RunningEmulator, session_id: str) -> None:
    client = emulator.agent_client(session_id)
    first = client.start(0.2, client_token="retry-me-1")
    assert client.start(0.2, client_token="retry-me-1") == first
    assert client.start(0.2, client_token="retry-me-2") != first


def test_list_shows_this_sessions_tasks_newest_first(emulator: RunningEmulator, session_id: str) -> None:
    client = emulator.agent_client(session_id)
    older = client.start(0.1)
    newer = client.start(0.1)
    listed = [task["task_id"] for task in client.list()["tasks"]]
    assert listed == [newer, older]


def test_list_pages_with_the_cursor_the_agent_returned(emulator: RunningEmulator, session_id: str) -> None:
    client = emulator.agent_client(session_id)
    older = client.start(0.1)
    newer = client.start(0.1)
    first = client.list(limit=1)
    assert [task["task_id"] for task in first["tasks"]] == [newer]
    second = client.list(limit=1, next_token=first["next_cursor"])
    assert [task["task_id"] for task in second["tasks"]] == [older]
    assert second["next_cursor"] is None


def test_unknown_task_is_task_not_found(emulator: RunningEmulator, session_id: str) -> None:
    client = emulator.agent_client(session_id)
    with pytest.raises(TaskNotFound) as caught:
        client.result("6f1c8a52-3a3e-4d55-9d43-1b2e8f5a7c10")
    assert isinstance(caught.value, AgentError)  # callers catching the base class still do
    assert caught.value.code == "TaskNotFound"
    assert not caught.value.retryable


def test_prompt_path_starts_a_task(emulator: RunningEmulator, session_id: str) -> None:
    client = emulator.agent_client(session_id)
    answer = client.prompt("start a 1 second task")
    assert "started" in answer["response"]
    assert len(client.list()["tasks"]) == 1
