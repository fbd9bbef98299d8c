"""The client library against the emulator: start, long-poll wait, backoff, cancel, list."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

from agentcore_async.client.api import AgentClient, WaitTimeout
from agentcore_async.client.backoff import Backoff
from agentcore_async.client.errors import AgentError, TaskNotFound
from agentcore_async.client.models import TaskResult, TaskStatus
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


def test_wait_hears_of_every_progress_step_and_the_completion(
    emulator: RunningEmulator, session_id: str
) -> None:
    # The emulator's agents report the sleep task's progress every 0.2 s (their heartbeat).
    client, calls = counting_client(emulator, session_id, long_poll_seconds=20)
    task_id = client.start(2)
    calls.clear()
    seen: list[tuple[float, TaskResult]] = []
    began = time.monotonic()
    done = client.wait(task_id, timeout=30, on_update=lambda task: seen.append((time.monotonic(), task)))
    assert done.status is TaskStatus.COMPLETED
    assert done.progress == 1.0
    progress = [task.progress for _, task in seen if task.status is TaskStatus.RUNNING]
    # Each held poll was answered when the progress moved, not after its 20 s: the bar moves.
    assert len(set(progress)) >= 3, progress
    assert progress == sorted(progress, key=lambda value: value or 0.0)
    assert seen[-1][0] - began < 10
    # At most one poll per PROGRESS_POLL_INTERVAL (0.5 s) while progress moves, plus the first.
    assert len(calls) <= 2 / 0.5 + 3, len(calls)


def test_without_progress_a_poll_is_held_until_the_task_finishes(
    emulator: RunningEmulator, session_id: str
) -> None:
    client, calls = counting_client(emulator, session_id, long_poll_seconds=20)
    task_id = client.start(1.5)
    calls.clear()
    done = client.result(task_id, wait_seconds=20)  # no last_progress: held until the end
    assert done.status is TaskStatus.COMPLETED
    assert calls == ["invoke"]


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
