"""Hostile and malformed requests straight to the agent: a 200 JSON error naming the problem, every time.

The error travels in a 2xx answer because AgentCore drops the body of any non-2xx container answer."""

from __future__ import annotations

import pytest

from tests.hardening.bad_inputs import AGENT_BAD_INPUTS, BadInput
from tests.hardening.rawhttp import send
from tests.support.agent_process import DEFAULT_SESSION, SESSION_HEADER, AgentProcess

JSON = {"Content-Type": "application/json"}
LIST = b'{"action": "list_tasks"}'


def _assert_still_serving(agent: AgentProcess) -> None:
    assert agent.ping()["status"] in ("Healthy", "HealthyBusy")
    reply = send(agent.url, "POST", "/invocations", LIST, headers={**JSON, SESSION_HEADER: DEFAULT_SESSION})
    assert reply.status == 200, reply.body


@pytest.mark.parametrize("case", AGENT_BAD_INPUTS, ids=lambda case: case.name)
def test_bad_payload_gets_a_named_error_in_a_2xx_answer(capped_agent: AgentProcess, case: BadInput) -> None:
    headers = {**JSON, SESSION_HEADER: DEFAULT_SESSION, **case.headers}
    reply = send(capped_agent.url, "POST", "/invocations", case.body, headers=headers, chunked=case.chunked)
    assert (reply.status, reply.error_code) == (200, case.code), reply.body[:500]
    assert set(reply.json) == {"error"}
    assert case.mentions in reply.error_message
    assert reply.headers["content-type"].startswith("application/json")
    assert not reply.leaks_internals(), reply.body[:500]
    _assert_still_serving(capped_agent)


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/invocations", 405, "MethodNotAllowed"),
        ("PUT", "/invocations", 405, "MethodNotAllowed"),
        ("DELETE", "/invocations", 405, "MethodNotAllowed"),
        ("POST", "/ping", 405, "MethodNotAllowed"),
        ("GET", "/admin", 404, "NotFound"),
        ("GET", "/invocations/../../etc/passwd", 404, "NotFound"),
    ],
)
def test_unsupported_methods_and_paths(
    capped_agent: AgentProcess, method: str, path: str, status: int, code: str
) -> None:
    reply = send(capped_agent.url, method, path, headers={SESSION_HEADER: DEFAULT_SESSION})
    assert (reply.status, reply.error_code) == (status, code), reply.body[:500]
    assert not reply.leaks_internals()
    _assert_still_serving(capped_agent)


def test_no_content_type_is_accepted_as_json(capped_agent: AgentProcess) -> None:
    """boto3's InvokeAgentRuntime sends no Content-Type unless asked: that must keep working."""
    reply = send(capped_agent.url, "POST", "/invocations", LIST, headers={SESSION_HEADER: DEFAULT_SESSION})
    assert reply.status == 200, reply.body
    assert isinstance(reply.json["tasks"], list)
