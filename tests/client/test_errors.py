"""Typed errors: the agent's code and message reach the caller, and retries read the code.

The runtime here is a loopback server in InvokeAgentRuntime's REST shape whose agent answers
application errors in a 200 answer, as the agent must on AWS (AgentCore drops the body of a
non-2xx container answer and says only ``Received error (NNN) from runtime``).
"""

from __future__ import annotations

import io
import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentcore_async.client import errors
from agentcore_async.client.api import AgentClient, boto_client
from agentcore_async.client.backoff import Backoff
from agentcore_async.client.cli import main
from agentcore_async.client.exit_codes import ExitCode
from agentcore_async.client.models import TaskStatus
from agentcore_async.client.target import Target
from tests.client.fake_runtime import FakeRuntime, Fault, Refusal, Scripted, running_fake_runtime

AGENT_500 = "Received error (500) from runtime. Please check your CloudWatch logs for more information."
AGENT_503 = "Received error (503) from runtime. Please check your CloudWatch logs for more information."


@pytest.fixture
def runtime() -> Iterator[FakeRuntime]:
    with running_fake_runtime() as running:
        yield running


def client_for(runtime: FakeRuntime, **kwargs: object) -> AgentClient:
    """The project's client over a real boto3 client to the loopback runtime."""
    target = Target(runtime_arn=runtime.arn, endpoint_url=runtime.url)
    return AgentClient(
        boto_client(target), runtime_arn=runtime.arn, session_id=f"errors-{uuid.uuid4().hex}", **kwargs
    )


@pytest.mark.parametrize(
    ("answer", "kind", "retryable"),
    [
        (Refusal("InvalidField", "duration must be > 0"), errors.InvalidInput, False),
        (Refusal("InvalidPayload", "not a JSON object"), errors.InvalidInput, False),
        (Refusal("UnknownAction", "unknown action 'x'"), errors.InvalidInput, False),
        (Refusal("PayloadTooLarge", "over 1048576 bytes"), errors.InvalidInput, False),
        (Refusal("UnsupportedMediaType", "text/plain"), errors.InvalidInput, False),
        (Refusal("TaskNotFound", "no such task"), errors.TaskNotFound, False),
        (
            Refusal("ClientTokenConflict", "token reused with other parameters"),
            errors.ClientTokenConflict,
            False,
        ),
        (
            Refusal("StorageUnavailable", "the task store is unreachable; retry"),
            errors.StorageUnavailable,
            True,
        ),
        (Refusal("ShuttingDown", "this microVM is stopping"), errors.ShuttingDown, True),
        (Refusal("UnknownKind", "unknown kind 'x'"), errors.InvalidInput, False),
        (Refusal("SomethingNew", "a code this client does not know"), errors.AgentError, False),
        (Fault("RuntimeClientError", AGENT_500), errors.AgentFailed, False),
        (Fault("RuntimeClientError", AGENT_503), errors.AgentFailed, False),
        (
            Fault("RuntimeClientError", "The runtime did not answer the invocation"),
            errors.RuntimeUnavailable,
            True,
        ),
        (Fault("ValidationException", "runtimeSessionId is too short"), errors.RequestInvalid, False),
        (Fault("ResourceNotFoundException", "No agent runtime"), errors.ResourceNotFound, False),
        (Fault("AccessDeniedException", "not authorized"), errors.AccessDenied, False),
        (Fault("ThrottlingException", "Rate exceeded"), errors.Throttled, True),
        (Fault("InternalServerException", "internal error"), errors.ServiceUnavailable, True),
    ],
    ids=lambda value: getattr(value, "code", None) or getattr(value, "__name__", str(value)),
)
def test_each_answer_raises_its_typed_error_with_code_and_message(
    runtime: FakeRuntime, answer: Fault | Refusal, kind: type[errors.AgentError], retryable: bool
) -> None:
    client = client_for(runtime)
    # botocore itself retries throttling and 5xx a few times; script enough answers for all of them.
    runtime.faults.extend([answer] * 5)
    with pytest.raises(errors.AgentError) as caught:
        client.result(str(uuid.uuid4()))
    assert type(caught.value) is kind
    assert (caught.value.code, caught.value.message) == (answer.code, answer.message)
    assert caught.value.retryable is retryable


def test_a_failed_task_is_a_result_not_an_error(runtime: FakeRuntime) -> None:
    client = client_for(runtime)
    task_id = client.start(30)
    client.cancel(task_id)
    cancelled = client.result(task_id)  # carries "error" and "status": a task view
    assert cancelled.status is TaskStatus.CANCELLED
    assert cancelled.error == {"code": "Cancelled", "message": "cancelled"}


def test_wait_rides_out_storage_unavailable_answered_with_200(runtime: FakeRuntime) -> None:
    client = client_for(runtime, long_poll_seconds=1, backoff=Backoff(base=0.05, cap=0.2))
    task_id = client.start(1)
    down: list[Scripted] = [Refusal("StorageUnavailable", "the task store is unreachable; retry")] * 3
    runtime.faults.extend(down)
    reasons: list[str] = []
    done = client.wait(task_id, timeout=30, on_retry=lambda error, pause: reasons.append(error.code))
    assert done.status is TaskStatus.COMPLETED
    assert reasons == ["StorageUnavailable"] * 3


def test_wait_stops_at_once_when_the_agent_itself_fails(runtime: FakeRuntime) -> None:
    sleeps: list[float] = []
    client = client_for(runtime, long_poll_seconds=1, sleep=sleeps.append)
    task_id = client.start(30)
    runtime.faults.append(Fault("RuntimeClientError", AGENT_500))
    with pytest.raises(errors.AgentFailed):
        client.wait(task_id, timeout=30)
    assert sleeps == []  # not retried


def test_cli_prints_the_agents_code_and_message(runtime: FakeRuntime, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    base = [
        "--endpoint-url",
        runtime.url,
        "--runtime-arn",
        runtime.arn,
        "--state-file",
        str(tmp_path / "s.json"),
    ]
    code = main(["start", *base, "--duration", "7200"], out=out, err=err)
    assert code == ExitCode.FAILED
    assert "InvalidField: duration exceeds the remaining lifetime of this microVM (1750s)" in err.getvalue()
    assert out.getvalue() == ""


def test_wait_raises_a_refusal_that_follows_a_retried_outage(runtime: FakeRuntime) -> None:
    client = client_for(
        runtime, long_poll_seconds=1, backoff=Backoff(base=0.01, cap=0.02, rng=random.Random(3))
    )
    task_id = client.start(0.5)
    runtime.faults.extend([Refusal("StorageUnavailable", "retry"), Refusal("TaskNotFound", "gone")])
    with pytest.raises(errors.TaskNotFound):
        client.wait(task_id, timeout=30)
