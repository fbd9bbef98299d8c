"""The table of hostile or malformed requests, shared by the agent and emulator tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

PAYLOAD_CAP: Final = 4096
"""AGENT_MAX_PAYLOAD_BYTES of the agents under test: small, so "over the cap" is cheap to send."""
LIFETIME_SECONDS: Final = 600
"""AGENT_MAX_LIFETIME_SECONDS of the agents under test."""
UNKNOWN_TASK: Final = "3f2b8c1e-9d4a-4b7e-a1c2-d3e4f5a6b7c8"


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _start(**fields: Any) -> bytes:
    return _json({"action": "start_background_task", "duration": 1, **fields})


def _get(task_id: Any = UNKNOWN_TASK, **fields: Any) -> bytes:
    return _json({"action": "get_task_result", "task_id": task_id, **fields})


@dataclass(frozen=True)
class BadInput:
    """One bad request to POST /invocations and the error the agent must answer with."""

    name: str
    body: bytes
    status: int
    code: str
    mentions: str = ""
    """Text the error message must contain (usually the offending field)."""
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False


AGENT_BAD_INPUTS: Final[tuple[BadInput, ...]] = (
    BadInput("empty body", b"", 400, "InvalidPayload", "JSON"),
    BadInput("not json", b"start a task please", 400, "InvalidPayload", "JSON"),
    BadInput("truncated json", b'{"action": "list_tasks"', 400, "InvalidPayload", "JSON"),
    BadInput("json array", b"[1, 2, 3]", 400, "InvalidPayload", "object"),
    BadInput("json string", b'"list_tasks"', 400, "InvalidPayload", "object"),
    BadInput("json number", b"42", 400, "InvalidPayload", "object"),
    BadInput("json null", b"null", 400, "InvalidPayload", "object"),
    BadInput("no action or prompt", b"{}", 400, "InvalidPayload", "action"),
    BadInput("unknown action", _json({"action": "drop_table"}), 400, "UnknownAction", "drop_table"),
    BadInput("action not a string", _json({"action": 7}), 400, "InvalidField", "action"),
    BadInput("missing duration", _json({"action": "start_background_task"}), 400, "InvalidField", "duration"),
    BadInput("extra field", _start(shell="rm -rf /"), 400, "InvalidField", "shell"),
    BadInput("duration as string", _start(duration="5"), 400, "InvalidField", "duration"),
    BadInput("duration as bool", _start(duration=True), 400, "InvalidField", "duration"),
    BadInput("duration as list", _start(duration=[1]), 400, "InvalidField", "duration"),
    BadInput(
        "NaN literal", b'{"action": "start_background_task", "duration": NaN}', 400, "InvalidPayload", "NaN"
    ),
    BadInput(
        "Infinity literal",
        b'{"action": "start_background_task", "duration": Infinity}',
        400,
        "InvalidPayload",
        "Infinity",
    ),
    BadInput(
        "-Infinity literal",
        b'{"action": "start_background_task", "duration": -Infinity}',
        400,
        "InvalidPayload",
        "Infinity",
    ),
    BadInput(
        "overflowing number",
        b'{"action": "start_background_task", "duration": 1e400}',
        400,
        "InvalidField",
        "duration",
    ),
    BadInput("negative duration", _start(duration=-5), 400, "InvalidField", "duration"),
    BadInput("zero duration", _start(duration=0), 400, "InvalidField", "duration"),
    BadInput("huge duration", _start(duration=1e300), 400, "InvalidField", "duration"),
    BadInput(
        "duration beyond max lifetime",
        _start(duration=LIFETIME_SECONDS + 1),
        400,
        "InvalidField",
        "lifetime",
    ),
    BadInput("negative result_bytes", _start(result_bytes=-1), 400, "InvalidField", "result_bytes"),
    BadInput("huge result_bytes", _start(result_bytes=10**12), 400, "InvalidField", "result_bytes"),
    BadInput("unknown retention", _start(retention="forever"), 400, "InvalidField", "retention"),
    BadInput("ephemeral without redis", _start(retention="ephemeral"), 400, "InvalidField", "retention"),
    BadInput("empty client_token", _start(client_token=""), 400, "InvalidField", "client_token"),
    BadInput("client_token too long", _start(client_token="t" * 129), 400, "InvalidField", "client_token"),
    BadInput(
        "client_token with spaces", _start(client_token="a token; DROP"), 400, "InvalidField", "client_token"
    ),
    BadInput("client_token as number", _start(client_token=12345), 400, "InvalidField", "client_token"),
    BadInput("task_id not a uuid", _get("task-1"), 400, "InvalidField", "task_id"),
    BadInput("task_id uppercase uuid", _get(UNKNOWN_TASK.upper()), 400, "InvalidField", "task_id"),
    BadInput("task_id overlong", _get(UNKNOWN_TASK + "0" * 1000), 400, "InvalidField", "task_id"),
    BadInput("task_id sql injection", _get("' OR '1'='1' --"), 400, "InvalidField", "task_id"),
    BadInput("task_id nosql operator", _get({"$ne": None}), 400, "InvalidField", "task_id"),
    BadInput("task_id path traversal", _get("../../../etc/passwd"), 400, "InvalidField", "task_id"),
    BadInput("task_id missing", _json({"action": "cancel_task"}), 400, "InvalidField", "task_id"),
    BadInput("unknown task", _get(), 404, "TaskNotFound", UNKNOWN_TASK),
    BadInput("negative wait_seconds", _get(wait_seconds=-1), 400, "InvalidField", "wait_seconds"),
    BadInput("huge wait_seconds", _get(wait_seconds=3600), 400, "InvalidField", "wait_seconds"),
    BadInput("wait_seconds as string", _get(wait_seconds="10"), 400, "InvalidField", "wait_seconds"),
    BadInput("list limit zero", _json({"action": "list_tasks", "limit": 0}), 400, "InvalidField", "limit"),
    BadInput(
        "list limit huge", _json({"action": "list_tasks", "limit": 10**9}), 400, "InvalidField", "limit"
    ),
    BadInput(
        "forged cursor",
        _json({"action": "list_tasks", "cursor": "not-a-cursor"}),
        400,
        "InvalidField",
        "cursor",
    ),
    BadInput("empty prompt", _json({"prompt": ""}), 400, "InvalidField", "prompt"),
    BadInput(
        "duplicate keys",
        b'{"action": "list_tasks", "action": "cancel_task"}',
        400,
        "InvalidPayload",
        "duplicate",
    ),
    BadInput("deeply nested json", b"[" * 2000 + b"]" * 2000, 400, "InvalidPayload", "nested"),
    BadInput("invalid utf-8", b'{"prompt": "\xff\xfe\xfd"}', 400, "InvalidPayload", "UTF-8"),
    BadInput(
        "session id too long",
        _json({"action": "list_tasks"}),
        400,
        "InvalidField",
        "Session-Id",
        headers={"X-Amzn-Bedrock-AgentCore-Runtime-Session-Id": "s" * 300},
    ),
    BadInput(
        "over the payload cap",
        _json({"prompt": "x" * (PAYLOAD_CAP + 1)}),
        413,
        "PayloadTooLarge",
        "limit",
    ),
    BadInput(
        "over the cap, chunked",
        _json({"prompt": "x" * (PAYLOAD_CAP * 4)}),
        413,
        "PayloadTooLarge",
        "limit",
        chunked=True,
    ),
    BadInput(
        "wrong content type",
        _json({"action": "list_tasks"}),
        415,
        "UnsupportedMediaType",
        "text/plain",
        headers={"Content-Type": "text/plain"},
    ),
    BadInput(
        "form content type",
        b"action=list_tasks",
        415,
        "UnsupportedMediaType",
        "application/x-www-form-urlencoded",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
)
