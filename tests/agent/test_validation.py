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


CASES: list[tuple[str, dict[str, Any] | bytes, int, str, str]] = [
    # (id, payload, status, code, text the message must contain)
    ("not json", b"{nope", 400, "InvalidPayload", "not valid JSON"),
    ("not utf-8", b'{"prompt": "\xff"}', 400, "InvalidPayload", "UTF-8"),
    ("array body", b"[1, 2]", 400, "InvalidPayload", "JSON object"),
    ("empty body", b"", 400, "InvalidPayload", "not valid JSON"),
    ("NaN", b'{"action": "start_background_task", "duration": NaN}', 400, "InvalidPayload", "NaN"),
    (
        "Infinity",
        b'{"action": "start_background_task", "duration": Infinity}',
        400,
        "InvalidPayload",
        "Infinity",
    ),
    (
        "duplicate key",
        b'{"action": "list_tasks", "action": "list_tasks"}',
        400,
        "InvalidPayload",
        "duplicate",
    ),
    ("too deep", b"[" * 4000, 400, "InvalidPayload", "nested too deeply"),
    ("no action", {"duration": 1}, 400, "InvalidPayload", "'action' or a 'prompt'"),
    ("unknown action", {"action": "drop_tables"}, 400, "UnknownAction", "drop_tables"),
    ("action not a string", {"action": 7}, 400, "InvalidField", "action"),
    ("unknown field", start(priority="high"), 400, "InvalidField", "priority: unknown field"),
    (
        "missing duration",
        {"action": "start_background_task"},
        400,
        "InvalidField",
        "duration: field required",
    ),
    ("string duration", start(duration="5"), 400, "InvalidField", "duration"),
    ("bool duration", start(duration=True), 400, "InvalidField", "duration"),
    ("zero duration", start(duration=0), 400, "InvalidField", "duration"),
    ("negative duration", start(duration=-3), 400, "InvalidField", "duration"),
    ("duration over lifetime", start(duration=3601), 400, "InvalidField", "remaining lifetime"),
    ("result_bytes over cap", start(result_bytes=1001), 400, "InvalidField", "result_bytes"),
    ("negative result_bytes", start(result_bytes=-1), 400, "InvalidField", "result_bytes"),
    ("float result_bytes", start(result_bytes=1.5), 400, "InvalidField", "result_bytes"),
    ("bad client_token", start(client_token="a b"), 400, "InvalidField", "client_token"),
    ("long client_token", start(client_token="x" * 129), 400, "InvalidField", "client_token"),
    ("bad retention", start(retention="forever"), 400, "InvalidField", "retention"),
    ("ephemeral without redis", start(retention="ephemeral"), 400, "InvalidField", "retention"),
    ("task_id not uuid", {"action": "get_task_result", "task_id": "123"}, 400, "InvalidField", "uuid4"),
    (
        "task_id uuid1",
        {"action": "get_task_result", "task_id": str(uuid.uuid1())},
        400,
        "InvalidField",
        "uuid4",
    ),
    ("task_id number", {"action": "get_task_result", "task_id": 5}, 400, "InvalidField", "task_id"),
    ("missing task_id", {"action": "cancel_task"}, 400, "InvalidField", "task_id: field required"),
    (
        "wait too long",
        {"action": "get_task_result", "task_id": TASK, "wait_seconds": 61},
        400,
        "InvalidField",
        "wait_seconds",
    ),
    (
        "negative wait",
        {"action": "get_task_result", "task_id": TASK, "wait_seconds": -1},
        400,
        "InvalidField",
        "wait_seconds",
    ),
    ("limit zero", {"action": "list_tasks", "limit": 0}, 400, "InvalidField", "limit"),
    ("limit too big", {"action": "list_tasks", "limit": 101}, 400, "InvalidField", "limit"),
    ("bad cursor", {"action": "list_tasks", "cursor": "not-a-cursor"}, 400, "InvalidField", "cursor"),
    ("empty prompt", {"prompt": ""}, 400, "InvalidField", "prompt"),
    ("prompt not text", {"prompt": ["a"]}, 400, "InvalidField", "prompt"),
    ("prompt with extra", {"prompt": "hi", "model": "x"}, 400, "InvalidField", "model: unknown field"),
    ("oversized", {"prompt": "x" * MAX_PAYLOAD}, 413, "PayloadTooLarge", str(MAX_PAYLOAD)),
    ("unknown task", {"action": "get_task_result", "task_id": TASK}, 404, "TaskNotFound", TASK),
]


@pytest.mark.parametrize(
    ("payload", "status", "code", "text"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_a_4xx_json_error(
    strict_agent: AgentProcess, payload: dict[str, Any] | bytes, status: int, code: str, text: str
) -> None:
    got_status, body = strict_agent.invoke(payload)
    assert got_status == status, body
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert text in body["error"]["message"]
    assert "Traceback" not in body["error"]["message"]
    assert "Error(" not in body["error"]["message"]
    assert strict_agent.ping()["status"] in {"Healthy", "HealthyBusy"}  # still serving


def test_session_header_is_validated(strict_agent: AgentProcess) -> None:
    status, body = strict_agent.invoke({"action": "list_tasks"}, session_id="s" * 257)
    assert status == 400
    assert body["error"]["code"] == "InvalidField"
    assert "Session-Id" in body["error"]["message"]


def test_a_valid_request_still_works_after_the_bad_ones(strict_agent: AgentProcess) -> None:
    status, body = strict_agent.invoke(start(duration=0.1), DEFAULT_SESSION)
    assert (status, body["status"]) == (200, "RUNNING")
    assert not [r for r in strict_agent.log_records() if r.get("level") == "ERROR"]


def test_non_json_content_type_is_refused(strict_agent: AgentProcess) -> None:
    status, body = strict_agent.invoke({"action": "list_tasks"}, headers={"Content-Type": "text/plain"})
    assert (status, body["error"]["code"]) == (415, "UnsupportedMediaType")
    status, _ = strict_agent.invoke(
        {"action": "list_tasks"}, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert status == 200
