"""Every validation error: a 4xx JSON error naming the problem, no exception text, server keeps serving."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.agent_process import DEFAULT_SESSION, FAST_TIMERS, AgentProcess, running_agent

MAX_PAYLOAD = 4096
TASK = str(uuid.uuid4())


@pytest.fixture(scope="module")
def strict_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProcess]:
    path: Path = tmp_path_factory.mktemp("validation") / "tasks.sqlite3"
    env = {
        **FAST_TIMERS,
        "AGENT_SQLITE_PATH": str(path),
        "AGENT_MAX_PAYLOAD_BYTES": str(MAX_PAYLOAD),
        "AGENT_MAX_RESULT_BYTES": "1000",
        "AGENT_MAX_LIFETIME_SECONDS": "3600",
    }
    with running_agent(env) as agent:
        yield agent


def start(**fields: Any) -> dict[str, Any]:
    return {"action": "start_background_task", "duration": 1, **fields}


CASES: list[tuple[str, dict[str, Any] | bytes, str, str]] = [
    # (id, payload, code, text the message must contain); every one is answered with HTTP 200
    ("not json", b"{nope", "InvalidPayload", "not valid JSON"),
    ("not utf-8", b'{"prompt": "\xff"}', "InvalidPayload", "UTF-8"),
    ("array body", b"[1, 2]", "InvalidPayload", "JSON object"),
    ("empty body", b"", "InvalidPayload", "not valid JSON"),
    ("NaN", b'{"action": "start_background_task", "duration": NaN}', "InvalidPayload", "NaN"),
    (
        "Infinity",
        b'{"action": "start_background_task", "duration": Infinity}',
        "InvalidPayload",
        "Infinity",
    ),
    (
        "duplicate key",
        b'{"action": "list_tasks", "action": "list_tasks"}',
        "InvalidPayload",
        "duplicate",
    ),
    ("too deep", b"[" * 4000, "InvalidPayload", "nested too deeply"),
    ("no action", {"duration": 1}, "InvalidPayload", "'action' or a 'prompt'"),
    ("unknown action", {"action": "drop_tables"}, "UnknownAction", "drop_tables"),
    ("action not a string", {"action": 7}, "InvalidField", "action"),
    ("unknown field", start(priority="high"), "InvalidField", "priority: unknown field"),
    (
        "missing duration",
        {"action": "start_background_task"},
        "InvalidField",
        "duration: field required",
    ),
    ("string duration", start(duration="5"), "InvalidField", "duration"),
    ("bool duration", start(duration=True), "InvalidField", "duration"),
    ("zero duration", start(duration=0), "InvalidField", "duration"),
    ("negative duration", start(duration=-3), "InvalidField", "duration"),
    ("duration over every resume", start(duration=36001), "InvalidField", "duration: exceeds what 10"),
    (
        "not resumable, over lifetime",
        {"action": "start_task", "kind": "once", "input": {"duration": 3601}},
        "InvalidField",
        "input.duration: exceeds the remaining lifetime",
    ),
    (
        "unknown kind",
        {"action": "start_task", "kind": "mine", "input": {}},
        "UnknownKind",
        "expected one of: sleep, agent_run, batch",
    ),
    (
        "input not an object",
        {"action": "start_task", "kind": "sleep", "input": [1]},
        "InvalidField",
        "input",
    ),
    (
        "input field mistyped",
        {"action": "start_task", "kind": "batch", "input": {"instruction": "x", "items": ["a", 5]}},
        "InvalidField",
        "input.items.1",
    ),
    (
        "input field unknown",
        {"action": "start_task", "kind": "sleep", "input": {"duration": 1, "speed": 2}},
        "InvalidField",
        "input.speed: unknown field",
    ),
    (
        "input field missing",
        {"action": "start_task", "kind": "agent_run", "input": {}},
        "InvalidField",
        "input.instructions: field required",
    ),
    ("result_bytes over cap", start(result_bytes=1001), "InvalidField", "result_bytes"),
    ("negative result_bytes", start(result_bytes=-1), "InvalidField", "result_bytes"),
    ("float result_bytes", start(result_bytes=1.5), "InvalidField", "result_bytes"),
    ("bad client_token", start(client_token="a b"), "InvalidField", "client_token"),
    ("long client_token", start(client_token="x" * 129), "InvalidField", "client_token"),
    ("bad retention", start(retention="forever"), "InvalidField", "retention"),
    ("ephemeral without redis", start(retention="ephemeral"), "InvalidField", "retention"),
    ("task_id not uuid", {"action": "get_task_result", "task_id": "123"}, "InvalidField", "uuid4"),
    (
        "task_id uuid1",
        {"action": "get_task_result", "task_id": str(uuid.uuid1())},
        "InvalidField",
        "uuid4",
    ),
    ("task_id number", {"action": "get_task_result", "task_id": 5}, "InvalidField", "task_id"),
    ("missing task_id", {"action": "cancel_task"}, "InvalidField", "task_id: field required"),
    (
        "wait too long",
        {"action": "get_task_result", "task_id": TASK, "wait_seconds": 61},
        "InvalidField",
        "wait_seconds",
    ),
    (
        "negative wait",
        {"action": "get_task_result", "task_id": TASK, "wait_seconds": -1},
        "InvalidField",
        "wait_seconds",
    ),
    ("limit zero", {"action": "list_tasks", "limit": 0}, "InvalidField", "limit"),
    ("limit too big", {"action": "list_tasks", "limit": 101}, "InvalidField", "limit"),
    ("bad cursor", {"action": "list_tasks", "cursor": "not-a-cursor"}, "InvalidField", "cursor"),
    ("empty prompt", {"prompt": ""}, "InvalidField", "prompt"),
    ("prompt not text", {"prompt": ["a"]}, "InvalidField", "prompt"),
    ("prompt with extra", {"prompt": "hi", "model": "x"}, "InvalidField", "model: unknown field"),
    ("oversized", {"prompt": "x" * MAX_PAYLOAD}, "PayloadTooLarge", str(MAX_PAYLOAD)),
    ("unknown task", {"action": "get_task_result", "task_id": TASK}, "TaskNotFound", TASK),
]


@pytest.mark.parametrize(("payload", "code", "text"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_a_json_error_in_a_2xx_answer(
    strict_agent: AgentProcess, payload: dict[str, Any] | bytes, code: str, text: str
) -> None:
    # AgentCore drops the body of a non-2xx container answer: the error must travel in a 200.
    got_status, body = strict_agent.invoke(payload)
    assert got_status == 200, body
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert text in body["error"]["message"]
    assert "Traceback" not in body["error"]["message"]
    assert "Error(" not in body["error"]["message"]
    assert strict_agent.ping()["status"] in {"Healthy", "HealthyBusy"}  # still serving


def test_session_header_is_validated(strict_agent: AgentProcess) -> None:
    status, body = strict_agent.invoke({"action": "list_tasks"}, session_id="s" * 257)
    assert status == 200
    assert body["error"]["code"] == "InvalidField"
    assert "Session-Id" in body["error"]["message"]


def test_a_valid_request_still_works_after_the_bad_ones(strict_agent: AgentProcess) -> None:
    status, body = strict_agent.invoke(start(duration=0.1), DEFAULT_SESSION)
    assert (status, body["status"]) == (200, "RUNNING")
    assert not [r for r in strict_agent.log_records() if r.get("level") == "ERROR"]


def test_non_json_content_type_is_refused(strict_agent: AgentProcess) -> None:
    status, body = strict_agent.invoke({"action": "list_tasks"}, headers={"Content-Type": "text/plain"})
    assert (status, body["error"]["code"]) == (200, "UnsupportedMediaType")
    status, _ = strict_agent.invoke(
        {"action": "list_tasks"}, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert status == 200
