"""Parsing and validating POST /invocations bodies into typed requests."""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from agent.errors import ApiError, invalid_field, invalid_payload
from agent.records import Retention

UUID4_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
TaskId = Annotated[str, StringConstraints(pattern=UUID4_PATTERN)]
MAX_WAIT_SECONDS = 60.0
MAX_PAGE_SIZE = 100


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


ClientToken = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]
KindName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
TASK_TOKEN_MAX_LENGTH = 2048
"""Step Functions API Reference, SendTaskSuccess / SendTaskFailure, taskToken: "Length Constraints:
Minimum length of 1. Maximum length of 2048." (https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html)"""
TaskToken = Annotated[str, StringConstraints(min_length=1, max_length=TASK_TOKEN_MAX_LENGTH)]


class Callback(_Request):
    """Where to report the task's final state: a Step Functions task token (``waitForTaskToken``)."""

    task_token: TaskToken


class StartTask(_Request):
    """Start a task of a registered kind in the background."""

    action: Literal["start_task"]
    kind: KindName
    input: dict[str, Any] = Field(default_factory=dict)
    client_token: ClientToken | None = None
    retention: Retention = "durable"
    callback: Callback | None = None

    @property
    def input_prefix(self) -> str:
        """How error messages name fields of ``input``."""
        return "input."


class StartBackgroundTask(_Request):
    """The seed's start: the ``sleep`` kind with its input fields at the top level."""

    action: Literal["start_background_task"]
    duration: Any
    result_bytes: Any = None
    client_token: ClientToken | None = None
    retention: Retention = "durable"
    callback: Callback | None = None

    def as_start_task(self) -> StartTask:
        """The same start as a ``start_task`` of kind ``sleep``."""
        fields = {"duration": self.duration}
        if self.result_bytes is not None:
            fields["result_bytes"] = self.result_bytes
        return _TopLevelStart(
            action="start_task",
            kind="sleep",
            input=fields,
            client_token=self.client_token,
            retention=self.retention,
            callback=self.callback,
        )


class _TopLevelStart(StartTask):
    @property
    def input_prefix(self) -> str:
        return ""


class ListKinds(_Request):
    """Describe every kind: name, input JSON schema, whether it is resumable."""

    action: Literal["list_kinds"]


class GetTask(_Request):
    """Read a task, optionally long-polling until it finishes (or its progress moves)."""

    action: Literal["get_task_result"]
    task_id: TaskId
    wait_seconds: float = Field(0.0, ge=0, le=MAX_WAIT_SECONDS, allow_inf_nan=False)
    last_progress: float | None = Field(None, ge=0, le=1, allow_inf_nan=False)
    """With ``wait_seconds``: also answer as soon as the task's progress differs from this."""


class CancelTask(_Request):
    """Ask a running task to stop."""

    action: Literal["cancel_task"]
    task_id: TaskId


class ListTasks(_Request):
    """List this session's tasks, newest first."""

    action: Literal["list_tasks"]
    limit: int = Field(20, ge=1, le=MAX_PAGE_SIZE)
    cursor: Annotated[str, StringConstraints(min_length=1, max_length=512)] | None = None


class Prompt(_Request):
    """A natural-language request for the strands agent."""

    prompt: Annotated[str, StringConstraints(min_length=1, max_length=10_000)]


Request = StartTask | StartBackgroundTask | GetTask | CancelTask | ListTasks | ListKinds | Prompt
_ACTIONS: dict[str, type[_Request]] = {
    "start_task": StartTask,
    "start_background_task": StartBackgroundTask,
    "list_kinds": ListKinds,
    "get_task_result": GetTask,
    "cancel_task": CancelTask,
    "list_tasks": ListTasks,
}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
"""How a surrogate gets into decoded text: as a JSON escape (raw ones are invalid UTF-8)."""
_SURROGATE = re.compile("[\ud800-\udfff]")
"""A surrogate left in decoded text is a lone one: JSON decodes a valid pair into one character."""


def _lone_surrogate_at(value: Any) -> str | None:
    """Where the first string (or key) holding a lone UTF-16 surrogate is (``input.items.2``;
    ``payload`` for the top level), or None. Iterative: the value may be nested deeply."""
    pending: list[tuple[str, Any]] = [("", value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return path or "payload"
        elif isinstance(item, dict):
            for key, child in item.items():
                if _SURROGATE.search(key):  # the key itself cannot be named: it is not valid text
                    return path or "payload"
                pending.append((f"{path}.{key}" if path else key, child))
        elif isinstance(item, list):
            pending.extend(
                (f"{path}.{index}" if path else str(index), child) for index, child in enumerate(item)
            )
    return None


def decode_json(body: bytes, max_bytes: int) -> dict[str, Any]:
    """Decode a request body strictly: size-capped UTF-8 JSON object, no NaN/Infinity, no duplicate keys,
    no lone UTF-16 surrogate in any string (it is not Unicode: no store, log or answer can encode it)."""
    if len(body) > max_bytes:
        raise ApiError("PayloadTooLarge", f"payload is {len(body)} bytes; the limit is {max_bytes}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid_payload("payload is not valid UTF-8") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError):
            raise invalid_payload(
                f"payload is not valid JSON (line {exc.lineno}, column {exc.colno})"
            ) from None
        raise invalid_payload(f"payload rejected: {exc}") from None
    except RecursionError:
        raise invalid_payload("payload is nested too deeply") from None
    if not isinstance(value, dict):
        raise invalid_payload("payload must be a JSON object")
    if _SURROGATE_ESCAPE.search(text) and (field := _lone_surrogate_at(value)) is not None:
        raise invalid_field(
            field, "contains a lone UTF-16 surrogate escape (\\ud800-\\udfff), which is not text"
        )
    return value


def _first_error(exc: ValidationError) -> ApiError:
    err = exc.errors()[0]
    field = ".".join(str(part) for part in err["loc"]) or "payload"
    if err["type"] == "extra_forbidden":
        return invalid_field(field, "unknown field")
    if err["type"] == "missing":
        return invalid_field(field, "field required")
    if err["type"] == "string_pattern_mismatch" and field == "task_id":
        return invalid_field(field, "must be a lowercase uuid4")
    return invalid_field(field, str(err["msg"]))


def parse_request(payload: dict[str, Any]) -> Request:
    """Turn a decoded payload into a typed request, or raise an :class:`ApiError` naming the problem."""
    if "action" in payload:
        action = payload["action"]
        if not isinstance(action, str):
            raise invalid_field("action", "must be a string")
        model = _ACTIONS.get(action)
        if model is None:
            known = ", ".join(sorted(_ACTIONS))
            raise ApiError("UnknownAction", f"unknown action {action[:64]!r}; expected one of: {known}")
    elif "prompt" in payload:
        model = Prompt
    else:
        raise invalid_payload("payload needs an 'action' or a 'prompt'")
    try:
        request = model.model_validate(payload)
    except ValidationError as exc:
        raise _first_error(exc) from None
    if isinstance(request, GetTask) and not math.isfinite(request.wait_seconds):
        raise invalid_field("wait_seconds", "must be a finite number")
    return request  # type: ignore[return-value]
