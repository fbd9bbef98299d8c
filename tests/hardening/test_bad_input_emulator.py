"""The same hostile requests through the emulator's data plane, plus the emulator's own checks.

An agent's 4xx reaches an AgentCore caller as ``RuntimeClientError`` (HTTP 424) whose message
names the agent's error code; the emulator's own validation answers in the AWS error shape.
"""

from __future__ import annotations

import urllib.parse
from typing import Final

import pytest

from tests.emulator.harness import RunningEmulator
from tests.hardening.bad_inputs import AGENT_BAD_INPUTS, BadInput
from tests.hardening.conftest import new_session
from tests.hardening.rawhttp import Reply, send
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
        assert f"({case.status})" in reply.json["message"]
        assert f"({case.code})" in reply.json["message"]
    _assert_still_serving(capped_emulator)


OTHER_ARN: Final = "arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/someone_else-abc123"


@pytest.mark.parametrize(
    ("name", "method", "path_arn", "query", "headers", "body", "status", "code", "mentions"),
    [
        ("session id too short", "POST", None, "", {SESSION_HEADER: "short-id"}, b"{}", 400,
         "ValidationException", "33-256"),
        ("session id too long", "POST", None, "", {SESSION_HEADER: "s" * 257}, b"{}", 400,
         "ValidationException", "33-256"),
        ("session id with spaces", "POST", None, "", {SESSION_HEADER: "bad session id with spaces " + "x" * 20},
         b"{}", 400, "ValidationException", "letters, digits"),
        ("session id with slash", "POST", None, "", {SESSION_HEADER: "../../" + "a" * 40}, b"{}", 400,
         "ValidationException", "letters, digits"),
        ("session id starting with dash", "POST", None, "", {SESSION_HEADER: "-" + "a" * 40}, b"{}", 400,
         "ValidationException", "starting with"),
        ("unknown runtime arn", "POST", OTHER_ARN, "", {SESSION_HEADER: SESSION}, b"{}", 404,
         "ResourceNotFoundException", OTHER_ARN),
        ("unknown qualifier", "POST", None, "?qualifier=beta", {SESSION_HEADER: SESSION}, b"{}", 404,
         "ResourceNotFoundException", "beta"),
        ("declared payload over 100 MB", "POST", None, "", {SESSION_HEADER: SESSION, "Content-Length": "200000000"},
         b"", 400, "ValidationException", "100000000"),
        ("GET on invocations", "GET", None, "", {SESSION_HEADER: SESSION}, None, 405,
         "UnknownOperationException", "GET"),
        ("PUT on invocations", "PUT", None, "", {SESSION_HEADER: SESSION}, b"{}", 405,
         "UnknownOperationException", "PUT"),
        ("DELETE on invocations", "DELETE", None, "", {SESSION_HEADER: SESSION}, None, 405,
         "UnknownOperationException", "DELETE"),
    ],
)  # fmt: skip
def test_invalid_invocations_are_rejected_by_the_emulator(
    capped_emulator: RunningEmulator,
    name: str,
    method: str,
    path_arn: str | None,
    query: str,
    headers: dict[str, str],
    body: bytes | None,
    status: int,
    code: str,
    mentions: str,
) -> None:
    path = _invocations(capped_emulator, path_arn) + query
    reply = send(capped_emulator.url, method, path, body, headers=headers)
    _assert_aws_error(reply, status, code)
    assert mentions in reply.json["message"], name
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
