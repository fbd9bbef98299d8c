"""The client library in-process, over a real boto3 client with botocore's Stubber: payloads it sends,
typed errors from the agent's 200 error answers and from AgentCore, and wait()'s retry decisions."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from agentcore_async.client import AgentClient, AgentFailed, InvalidInput, StorageUnavailable, TaskNotFound
from agentcore_async.client.models import TaskStatus

pytestmark = pytest.mark.unit
ARN = "arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/unit_agent-abc123"
SESSION = "unit-client-session-0000000000000000000"
TASK = "3f2b8c1e-9d4a-4b7e-a1c2-d3e4f5a6b7c8"


class Runtime:
    """A stubbed ``bedrock-agentcore`` client and an AgentClient over it."""

    def __init__(self) -> None:
        self.boto = boto3.client(
            "bedrock-agentcore", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        self.stubber = Stubber(self.boto)
        self.sleeps: list[float] = []
        self.retries: list[str] = []
        self.client = AgentClient(
            self.boto, runtime_arn=ARN, session_id=SESSION, long_poll_seconds=1, sleep=self.sleeps.append
        )

    def answers(self, body: dict[str, Any], payload: dict[str, Any] | None = None) -> None:
        data = json.dumps(body).encode()
        expected = None
        if payload is not None:
            expected = {
                "agentRuntimeArn": ARN,
                "qualifier": "DEFAULT",
                "contentType": "application/json",
                "accept": "application/json, text/event-stream",
                "payload": json.dumps(payload).encode(),
                "runtimeSessionId": SESSION,
            }
        self.stubber.add_response(
            "invoke_agent_runtime",
            {"response": StreamingBody(io.BytesIO(data), len(data)), "contentType": "application/json"},
            expected,
        )

    def fails(self, code: str, message: str, status: int) -> None:
        self.stubber.add_client_error(
            "invoke_agent_runtime", service_error_code=code, service_message=message, http_status_code=status
        )


@pytest.fixture
def runtime() -> Iterator[Runtime]:
    runtime = Runtime()
    with runtime.stubber:
        yield runtime
        runtime.stubber.assert_no_pending_responses()


def test_start_task_sends_the_kind_and_its_input(runtime: Runtime) -> None:
    payload = {"action": "start_task", "kind": "batch", "input": {"instruction": "x", "items": ["a"]}}
    runtime.answers({"task_id": TASK, "status": "RUNNING"}, {**payload, "client_token": "t-1"})
    assert (
        runtime.client.start_task("batch", {"instruction": "x", "items": ["a"]}, client_token="t-1") == TASK
    )


@pytest.mark.parametrize(
    ("code", "error_type"),
    [("InvalidField", InvalidInput), ("UnknownKind", InvalidInput), ("TaskNotFound", TaskNotFound)],
)
def test_an_error_answer_raises_its_typed_error_with_code_and_message(
    runtime: Runtime, code: str, error_type: type[Exception]
) -> None:
    runtime.answers({"error": {"code": code, "message": "input.items.0: field required"}})
    with pytest.raises(error_type) as raised:
        runtime.client.result(TASK)
    assert (raised.value.code, raised.value.message) == (code, "input.items.0: field required")  # type: ignore[attr-defined]


def test_wait_rides_out_storage_unavailable_and_a_suspended_task(runtime: Runtime) -> None:
    runtime.answers({"task_id": TASK, "status": "RUNNING", "progress": 0.2, "attempt": 1})
    runtime.answers(
        {"error": {"code": "StorageUnavailable", "message": "task storage is unavailable; retry"}}
    )
    runtime.answers({"task_id": TASK, "status": "SUSPENDED", "progress": 0.5, "attempt": 1})
    runtime.answers({"task_id": TASK, "status": "COMPLETED", "progress": 1.0, "attempt": 2, "result": "ok"})
    seen: list[TaskStatus] = []
    done = runtime.client.wait(
        TASK,
        60,
        on_update=lambda task: seen.append(task.status),
        on_retry=lambda error, pause: runtime.retries.append(error.code),
    )
    assert (done.status, done.result, done.attempt) == (TaskStatus.COMPLETED, "ok", 2)
    assert seen == [TaskStatus.RUNNING, TaskStatus.SUSPENDED, TaskStatus.COMPLETED]
    assert runtime.retries == ["StorageUnavailable"]


def test_wait_stops_at_once_when_the_agent_itself_failed(runtime: Runtime) -> None:
    runtime.fails(
        "RuntimeClientError",
        "Received error (500) from runtime. Please check your CloudWatch logs for more information.",
        424,
    )
    with pytest.raises(AgentFailed):
        runtime.client.wait(TASK, 60, on_retry=lambda error, pause: runtime.retries.append(error.code))
    assert runtime.retries == []


def test_storage_unavailable_is_retryable(runtime: Runtime) -> None:
    runtime.answers({"error": {"code": "StorageUnavailable", "message": "retry"}})
    with pytest.raises(StorageUnavailable) as raised:
        runtime.client.result(TASK)
    assert raised.value.retryable
