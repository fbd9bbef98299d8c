"""Property-based fuzzing of POST /invocations: never a 5xx, never a traceback, always the error shape.

Payloads never carry a ``prompt`` (that path calls a model, which tests do not reach).
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any, Final

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.emulator.harness import RunningEmulator
from tests.hardening.rawhttp import Reply, send
from tests.hardening.tasks import new_session
from tests.support.agent_process import DEFAULT_SESSION, SESSION_HEADER, AgentProcess

ACTIONS: Final = ("start_background_task", "get_task_result", "cancel_task", "list_tasks")
FIELDS: Final = (
    "action", "duration", "result_bytes", "client_token", "retention", "task_id",
    "wait_seconds", "limit", "cursor",
)  # fmt: skip
SHORT_WAIT: Final = 0.5
"""Longest ``wait_seconds`` the fuzzer sends, so a valid long poll does not stall the run."""

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
field_values = (
    json_values
    | st.sampled_from(ACTIONS)
    | st.uuids(version=4).map(str)
    | st.floats(min_value=0.01, max_value=0.2)
    | st.sampled_from(["durable", "ephemeral"])
)


def _bounded(payload: dict[str, Any]) -> dict[str, Any]:
    wait = payload.get("wait_seconds")
    if isinstance(wait, int | float) and not isinstance(wait, bool) and wait >= 0:
        payload["wait_seconds"] = min(wait, SHORT_WAIT)
    payload.pop("prompt", None)
    return payload


action_payloads = st.builds(
    lambda action, extra: _bounded({"action": action, **extra}),
    st.sampled_from(ACTIONS) | st.text(max_size=20),
    st.dictionaries(st.sampled_from(FIELDS[1:]) | st.text(max_size=12), field_values, max_size=5),
)
json_bodies = (action_payloads | json_values.map(lambda v: _bounded(v) if isinstance(v, dict) else v)).map(
    lambda v: json.dumps(v).encode()
)
bodies = json_bodies | st.binary(max_size=300) | json_bodies.map(lambda b: b[: len(b) // 2])
content_types = st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", ""])


def _check(reply: Reply) -> None:
    assert reply.status < 500, reply.body[:500]
    assert not reply.leaks_internals(), reply.body[:500]
    body = reply.json
    assert isinstance(body, dict), reply.body[:500]
    if reply.status >= 400:
        assert isinstance(reply.error_code, str)
        assert reply.error_code
        assert isinstance(body["error"]["message"], str)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies, content_type=content_types)
def test_fuzzed_invocations_never_fail_on_the_server(
    capped_agent: AgentProcess, body: bytes, content_type: str
) -> None:
    headers = {SESSION_HEADER: DEFAULT_SESSION}
    if content_type:
        headers["Content-Type"] = content_type
    _check(send(capped_agent.url, "POST", "/invocations", body, headers=headers))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(session=st.text(min_size=1, max_size=300).filter(lambda s: s.isascii() and s.isprintable()))
def test_fuzzed_session_headers_never_fail_on_the_server(capped_agent: AgentProcess, session: str) -> None:
    reply = send(
        capped_agent.url,
        "POST",
        "/invocations",
        b'{"action": "list_tasks"}',
        headers={SESSION_HEADER: session},
    )
    _check(reply)


FUZZ_SESSION: Final = new_session()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies)
def test_fuzzed_invocations_through_the_emulator_never_fail_on_the_server(
    capped_emulator: RunningEmulator, body: bytes
) -> None:
    path = f"/runtimes/{urllib.parse.quote(capped_emulator.arn, safe='')}/invocations"
    reply = send(capped_emulator.url, "POST", path, body, headers={SESSION_HEADER: FUZZ_SESSION})
    assert reply.status < 500, reply.body[:500]
    assert not reply.leaks_internals(), reply.body[:500]
    if reply.status >= 400:
        assert reply.error_code in ("RuntimeClientError", "ValidationException"), reply.body[:500]
