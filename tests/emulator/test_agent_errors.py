"""What a caller sees when the agent answers non-2xx: AgentCore's own wording, not the agent's body.

AgentCore relays a container's 4xx/5xx as ``RuntimeClientError`` (HTTP 424) with the message
``Received error (NNN) from runtime. Please check your CloudWatch logs for more information.``
and drops the body ("I need help understanding HTTP error codes" in
https://docs.aws.amazon.com/bedrock-agentcore/latest/devguide/runtime-troubleshooting.html;
InvokeAgentRuntime, Errors: RuntimeClientError, HTTP 424, in the AgentCore data plane API
reference). The emulator says exactly that by default; ``--agent-error-detail`` adds the agent's
error code, a convenience AWS does not offer.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator import scripted_agent
from tests.emulator.harness import RunningEmulator, running_emulator

SCRIPTED_AGENT = Path(scripted_agent.__file__).resolve()
FLAGS = ("--idle-timeout", "60", "--max-lifetime", "600", "--ping-interval", "0.3")
SESSION = f"agent-errors-{'4' * 30}"


def aws_message(status: int) -> str:
    return f"Received error ({status}) from runtime. Please check your CloudWatch logs for more information."


@pytest.fixture(scope="module")
def scripted() -> Iterator[RunningEmulator]:
    """The emulator as AWS behaves, over an agent whose answers the test chooses."""
    command = shlex.join([sys.executable, str(SCRIPTED_AGENT)])
    with running_emulator("--agent-command", command, *FLAGS) as running:
        yield running


@pytest.fixture(scope="module")
def detailed() -> Iterator[RunningEmulator]:
    """The same with ``--agent-error-detail``."""
    command = shlex.join([sys.executable, str(SCRIPTED_AGENT)])
    with running_emulator("--agent-command", command, *FLAGS, "--agent-error-detail") as running:
        yield running


def answer(emulator: RunningEmulator, status: int, body: dict[str, Any]) -> Any:
    payload = {"answer": {"status": status, "body": body}}
    return emulator.boto().invoke_agent_runtime(
        agentRuntimeArn=emulator.arn, runtimeSessionId=SESSION, payload=json.dumps(payload)
    )


def agent_error(code: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": f"the agent says {code}"}}


@pytest.mark.parametrize(
    ("status", "code"), [(400, "InvalidField"), (404, "TaskNotFound"), (500, "Internal"), (503, "NotReady")]
)
def test_a_non_2xx_answer_reads_as_aws_words_it(scripted: RunningEmulator, status: int, code: str) -> None:
    with pytest.raises(ClientError) as caught:
        answer(scripted, status, agent_error(code))
    error = caught.value.response
    assert error["Error"]["Code"] == "RuntimeClientError"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["Error"]["Message"] == aws_message(status)  # nothing of the agent's body
    ok = answer(scripted, 200, {"fine": True})  # the microVM keeps serving
    assert json.loads(ok["response"].read()) == {"fine": True}


def test_a_2xx_error_object_passes_through_unchanged(scripted: RunningEmulator) -> None:
    # The agent's way to make an application error reach the caller: a 2xx answer.
    response = answer(scripted, 200, agent_error("TaskNotFound"))
    assert json.loads(response["response"].read()) == agent_error("TaskNotFound")


def test_agent_error_detail_adds_the_agent_code_behind_a_flag(detailed: RunningEmulator) -> None:
    with pytest.raises(ClientError) as caught:
        answer(detailed, 503, agent_error("StorageUnavailable"))
    message = caught.value.response["Error"]["Message"]
    assert message.startswith(aws_message(503))  # clients that read the AWS wording still can
    assert "StorageUnavailable" in message
    assert "the agent says" not in message  # the code only, never the agent's free text
