"""The same hostile requests through the emulator's data plane, plus the emulator's own checks.

An agent's 4xx reaches an AgentCore caller as ``RuntimeClientError`` (HTTP 424) with AgentCore's
wording, which names only the agent's status (the agent's body is dropped, as on AWS); the
emulator's own validation answers in the AWS error shape.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from typing import Final

import pytest

from tests.emulator.harness import RunningEmulator
from tests.hardening.bad_inputs import AGENT_BAD_INPUTS, BadInput
from tests.hardening.rawhttp import Reply, send
from tests.hardening.tasks import new_session
from tests.support.agent_process import SESSION_HEADER

SESSION: Final = new_session()
"""One session for the whole table, so one microVM takes every bad payload in turn."""
SESSION_CHECKED_FIRST: Final = frozenset({"session id too long"})


def _invocations(emulator: RunningEmulator, arn: str | None = None) -> str:
    return f"/runtimes/{urllib.parse.quote(arn or emulator.arn, safe='')}/invocations"


def _assert_still_serving(emulator: RunningEmulator) -> None:
    table = send(emulator.url, "GET", "/sessions")
    assert table.status == 200
    reply = send(
        emulator.url,
        "POST",
        _invocations(emulator),
        b'{"action": "list_tasks"}',
        headers={SESSION_HEADER: SESSION},
    )
    assert reply.status == 200, reply.body
    rows = [row for row in table.json["sessions"] if row["session_id"] == SESSION]
    assert all(row["state"] in ("starting", "running") for row in rows), rows


def _assert_aws_error(reply: Reply, status: int, code: str) -> None:
    assert reply.status == status, reply.body[:500]
    assert reply.headers.get("x-amzn-errortype") == code
    assert reply.json["__type"] == code
    assert reply.error_code == code
    assert not reply.leaks_internals(), reply.body[:500]


@pytest.mark.parametrize("case", AGENT_BAD_INPUTS, ids=lambda case: case.name)
def test_bad_payload_reaches_the_caller_as_a_runtime_client_error(
    capped_emulator: RunningEmulator, case: BadInput
) -> None:
    headers = {"Content-Type": "application/json", SESSION_HEADER: SESSION, **case.headers}
    reply = send(
        capped_emulator.url,
        "POST",
        _invocations(capped_emulator),
        case.body,
        headers=headers,
        chunked=case.chunked,
    )
    if case.name in SESSION_CHECKED_FIRST:
        _assert_aws_error(reply, 400, "ValidationException")
        assert "runtimeSessionId" in reply.json["message"]
    else:
        _assert_aws_error(reply, 424, "RuntimeClientError")
        assert reply.json["message"] == (
            f"Received error ({case.status}) from runtime."
            " Please check your CloudWatch logs for more information."
        )
    _assert_still_serving(capped_emulator)


OTHER_ARN: Final = "arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/someone_else-abc123"


@dataclass(frozen=True)
class EmulatorCase:
    """A request the emulator itself must refuse, in the AWS error shape."""

    name: str
    status: int
    code: str
    mentions: str
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=lambda: {SESSION_HEADER: SESSION})
    body: bytes | None = b"{}"
    arn: str | None = None
    query: str = ""


EMULATOR_CASES: Final = (
    EmulatorCase(
        "session id too short", 400, "ValidationException", "33-256", headers={SESSION_HEADER: "short"}
    ),
    EmulatorCase(
        "session id too long", 400, "ValidationException", "33-256", headers={SESSION_HEADER: "s" * 257}
    ),
    EmulatorCase(
        "session id with spaces",
        400,
        "ValidationException",
        "letters, digits",
        headers={SESSION_HEADER: "bad session id with spaces " + "x" * 20},
    ),
    EmulatorCase(
        "session id with slashes",
        400,
        "ValidationException",
        "letters, digits",
        headers={SESSION_HEADER: "../../" + "a" * 40},
    ),
    EmulatorCase(
        "session id starting with a dash",
        400,
        "ValidationException",
        "starting with",
        headers={SESSION_HEADER: "-" + "a" * 40},
    ),
    EmulatorCase("unknown runtime arn", 404, "ResourceNotFoundException", OTHER_ARN, arn=OTHER_ARN),
    EmulatorCase("unknown qualifier", 404, "ResourceNotFoundException", "beta", query="?qualifier=beta"),
    EmulatorCase(
        "declared payload over 100 MB",
        400,
        "ValidationException",
        "100000000",
        headers={SESSION_HEADER: SESSION, "Content-Length": "200000000"},
        body=b"",
    ),
    EmulatorCase("GET on invocations", 405, "UnknownOperationException", "GET", method="GET", body=None),
    EmulatorCase("PUT on invocations", 405, "UnknownOperationException", "PUT", method="PUT"),
    EmulatorCase(
        "DELETE on invocations", 405, "UnknownOperationException", "DELETE", method="DELETE", body=None
    ),
)


@pytest.mark.parametrize("case", EMULATOR_CASES, ids=lambda case: case.name)
def test_invalid_invocations_are_rejected_by_the_emulator(
    capped_emulator: RunningEmulator, case: EmulatorCase
) -> None:
    path = _invocations(capped_emulator, case.arn) + case.query
    reply = send(capped_emulator.url, case.method, path, case.body, headers=case.headers)
    _assert_aws_error(reply, case.status, case.code)
    assert case.mentions in reply.json["message"]
    _assert_still_serving(capped_emulator)


def test_stop_session_needs_a_known_session(capped_emulator: RunningEmulator) -> None:
    path = f"/runtimes/{urllib.parse.quote(capped_emulator.arn, safe='')}/stopruntimesession"
    missing = send(capped_emulator.url, "POST", path, b"{}")
    _assert_aws_error(missing, 400, "ValidationException")
    unknown = send(capped_emulator.url, "POST", path, b"{}", headers={SESSION_HEADER: new_session()})
    _assert_aws_error(unknown, 404, "ResourceNotFoundException")
    _assert_still_serving(capped_emulator)


def test_unknown_paths_are_unknown_operations(capped_emulator: RunningEmulator) -> None:
    for method, path in (("GET", "/"), ("POST", "/admin"), ("DELETE", "/sessions")):
        reply = send(capped_emulator.url, method, path)
        assert reply.status in (404, 405), (method, path)
        assert reply.error_code == "UnknownOperationException"
    _assert_still_serving(capped_emulator)
