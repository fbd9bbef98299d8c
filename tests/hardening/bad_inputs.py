"""The table of hostile or malformed requests, shared by the agent and emulator tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

PAYLOAD_CAP: Final = 4096
"""AGENT_MAX_PAYLOAD_BYTES of the agents under test: small, so "over the cap" is cheap to send."""
LIFETIME_SECONDS: Final = 600
"""AGENT_MAX_LIFETIME_SECONDS of the agents under test."""
MAX_ATTEMPTS: Final = 10
"""AGENT_MAX_ATTEMPTS (its default): a resumable task may run up to this many lifetimes."""
UNKNOWN_TASK: Final = "3f2b8c1e-9d4a-4b7e-a1c2-d3e4f5a6b7c8"


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _start(**fields: Any) -> bytes:
    return _json({"action": "start_background_task", "duration": 1, **fields})


def _get(task_id: Any = UNKNOWN_TASK, **fields: Any) -> bytes:
    return _json({"action": "get_task_result", "task_id": task_id, **fields})


@dataclass(frozen=True)
class BadInput:
    """One bad request to POST /invocations and the error the agent must answer with.

    Every such answer is HTTP 200 with ``{"error": {"code", "message"}}``: AgentCore drops the body
    of a non-2xx container answer, so only a 2xx error reaches the caller.
    """

    name: str
    body: bytes
    code: str
    mentions: str = ""
    """Text the error message must contain (usually the offending field)."""
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False


AGENT_BAD_INPUTS: Final[tuple[BadInput, ...]] = (
    BadInput("empty body", b"", "InvalidPayload", "JSON"),
    BadInput("not json", b"start a task please", "InvalidPayload", "JSON"),
    BadInput("truncated json", b'{"action": "list_tasks"', "InvalidPayload", "JSON"),
    BadInput("json array", b"[1, 2, 3]", "InvalidPayload", "object"),
    BadInput("json string", b'"list_tasks"', "InvalidPayload", "object"),
    BadInput("json number", b"42", "InvalidPayload", "object"),
    BadInput("json null", b"null", "InvalidPayload", "object"),
    BadInput("no action or prompt", b"{}", "InvalidPayload", "action"),
    BadInput("unknown action", _json({"action": "drop_table"}), "UnknownAction", "drop_table"),
    BadInput("action not a string", _json({"action": 7}), "InvalidField", "action"),
    BadInput("missing duration", _json({"action": "start_background_task"}), "InvalidField", "duration"),
    BadInput("extra field", _start(shell="rm -rf /"), "InvalidField", "shell"),
    BadInput("duration as string", _start(duration="5"), "InvalidField", "duration"),
    BadInput("duration as bool", _start(duration=True), "InvalidField", "duration"),
    BadInput("duration as list", _start(duration=[1]), "InvalidField", "duration"),
    BadInput("NaN literal", b'{"action": "start_background_task", "duration": NaN}', "InvalidPayload", "NaN"),
    BadInput(
        "Infinity literal",
        b'{"action": "start_background_task", "duration": Infinity}',
        "InvalidPayload",
        "Infinity",
    ),
    BadInput(
        "-Infinity literal",
        b'{"action": "start_background_task", "duration": -Infinity}',
        "InvalidPayload",
        "Infinity",
    ),
    BadInput(
        "overflowing number",
        b'{"action": "start_background_task", "duration": 1e400}',
        "InvalidField",
        "duration",
    ),
    BadInput("negative duration", _start(duration=-5), "InvalidField", "duration"),
    BadInput("zero duration", _start(duration=0), "InvalidField", "duration"),
    BadInput("huge duration", _start(duration=1e300), "InvalidField", "duration"),
    BadInput(
        "duration beyond every resume",
        _start(duration=MAX_ATTEMPTS * LIFETIME_SECONDS + 1),
        "InvalidField",
        "lifetime",
    ),
    BadInput(
        "not resumable, beyond max lifetime",
        _json({"action": "start_task", "kind": "once", "input": {"duration": LIFETIME_SECONDS + 1}}),
        "InvalidField",
        "input.duration",
    ),
    BadInput("unknown kind", _json({"action": "start_task", "kind": "rm -rf"}), "UnknownKind", "rm -rf"),
    BadInput(
        "kind input not an object",
        _json({"action": "start_task", "kind": "sleep", "input": "5"}),
        "InvalidField",
        "input",
    ),
    BadInput(
        "kind input with a bad item",
        _json({"action": "start_task", "kind": "batch", "input": {"instruction": "x", "items": [{}]}}),
        "InvalidField",
        "input.items.0",
    ),
    BadInput("negative result_bytes", _start(result_bytes=-1), "InvalidField", "result_bytes"),
    BadInput("huge result_bytes", _start(result_bytes=10**12), "InvalidField", "result_bytes"),
    BadInput("unknown retention", _start(retention="forever"), "InvalidField", "retention"),
    BadInput("ephemeral without redis", _start(retention="ephemeral"), "InvalidField", "retention"),
    BadInput("empty client_token", _start(client_token=""), "InvalidField", "client_token"),
    BadInput("client_token too long", _start(client_token="t" * 129), "InvalidField", "client_token"),
    BadInput(
        "client_token with spaces", _start(client_token="a token; DROP"), "InvalidField", "client_token"
    ),
    BadInput("client_token as number", _start(client_token=12345), "InvalidField", "client_token"),
    BadInput("callback not an object", _start(callback="token"), "InvalidField", "callback"),
    BadInput("callback without a token", _start(callback={}), "InvalidField", "callback.task_token"),
    BadInput("empty task_token", _start(callback={"task_token": ""}), "InvalidField", "callback.task_token"),
    BadInput(
        "task_token too long",  # Step Functions' taskToken: 1-2048 characters
        _start(callback={"task_token": "t" * 2049}),
        "InvalidField",
        "callback.task_token",
    ),
    BadInput("task_id not a uuid", _get("task-1"), "InvalidField", "task_id"),
    BadInput("task_id uppercase uuid", _get(UNKNOWN_TASK.upper()), "InvalidField", "task_id"),
    BadInput("task_id overlong", _get(UNKNOWN_TASK + "0" * 1000), "InvalidField", "task_id"),
    BadInput("task_id sql injection", _get("' OR '1'='1' --"), "InvalidField", "task_id"),
    BadInput("task_id nosql operator", _get({"$ne": None}), "InvalidField", "task_id"),
    BadInput("task_id path traversal", _get("../../../etc/passwd"), "InvalidField", "task_id"),
    BadInput("task_id missing", _json({"action": "cancel_task"}), "InvalidField", "task_id"),
    BadInput("unknown task", _get(), "TaskNotFound", UNKNOWN_TASK),
    BadInput("negative wait_seconds", _get(wait_seconds=-1), "InvalidField", "wait_seconds"),
    BadInput("huge wait_seconds", _get(wait_seconds=3600), "InvalidField", "wait_seconds"),
    BadInput("wait_seconds as string", _get(wait_seconds="10"), "InvalidField", "wait_seconds"),
    BadInput("list limit zero", _json({"action": "list_tasks", "limit": 0}), "InvalidField", "limit"),
    BadInput("list limit huge", _json({"action": "list_tasks", "limit": 10**9}), "InvalidField", "limit"),
    BadInput(
        "forged cursor",
        _json({"action": "list_tasks", "cursor": "not-a-cursor"}),
        "InvalidField",
        "cursor",
    ),
    BadInput("empty prompt", _json({"prompt": ""}), "InvalidField", "prompt"),
    BadInput(
        "duplicate keys",
        b'{"action": "list_tasks", "action": "cancel_task"}',
        "InvalidPayload",
        "duplicate",
    ),
    BadInput("deeply nested json", b"[" * 2000 + b"]" * 2000, "InvalidPayload", "nested"),
    BadInput("invalid utf-8", b'{"prompt": "\xff\xfe\xfd"}', "InvalidPayload", "UTF-8"),
    BadInput(
        "session id too long",
        _json({"action": "list_tasks"}),
        "InvalidField",
        "Session-Id",
        headers={"X-Amzn-Bedrock-AgentCore-Runtime-Session-Id": "s" * 300},
    ),
    BadInput(
        "over the payload cap",
        _json({"prompt": "x" * (PAYLOAD_CAP + 1)}),
        "PayloadTooLarge",
        "limit",
    ),
    BadInput(
        "over the cap, chunked",
        _json({"prompt": "x" * (PAYLOAD_CAP * 4)}),
        "PayloadTooLarge",
        "limit",
        chunked=True,
    ),
    BadInput(
        "wrong content type",
        _json({"action": "list_tasks"}),
        "UnsupportedMediaType",
        "text/plain",
        headers={"Content-Type": "text/plain"},
    ),
    BadInput(
        "form content type",
        b"action=list_tasks",
        "UnsupportedMediaType",
        "application/x-www-form-urlencoded",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
)
