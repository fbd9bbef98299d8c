"""The ``detail`` of a task's state-change event, and the AWS size limits it must fit.

The detail says where the result is, never what it is: results may be large and private.
"""

from __future__ import annotations

import json
from typing import Any, Final

from agent.records import TaskRecord, TaskStatus
from agentcore_async.contract import EVENT_DETAIL_TYPE, EVENT_SOURCE

MAX_ENTRY_BYTES: Final = 256 * 1024
"""EventBridge User Guide, "Calculating PutEvents event entry size": the entry (Time 14 bytes,
Source, DetailType, Detail and Resources as UTF-8) must be less than 256 KB
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html)."""
TIME_BYTES: Final = 14
"""How much a given ``Time`` counts towards an entry's size (same page)."""
MAX_OUTPUT_BYTES: Final = 262_144
"""Step Functions API Reference, SendTaskSuccess, output: "Maximum length of 262144", counted as
UTF-8 bytes (https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html)."""
MAX_ERROR_CHARS: Final = 256
"""Step Functions API Reference, SendTaskFailure, error: "Maximum length of 256"
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskFailure.html)."""
MAX_CAUSE_CHARS: Final = 32_768
"""Step Functions API Reference, SendTaskFailure, cause: "Maximum length of 32768" (same page)."""
MAX_MESSAGE_CHARS: Final = 4096
"""Our own cap on the error message an event carries, so every entry stays far below its limit."""


def result_location(record: TaskRecord, bucket_name: str | None) -> dict[str, Any] | None:
    """Where a completed task's result can be read: in its record (``get_task_result``) or in S3."""
    if record.status is not TaskStatus.COMPLETED:
        return None
    where: dict[str, Any] = {"format": record.result_format, "size_bytes": record.result_size}
    if record.result_key is not None:
        return {"location": "s3", "bucket": bucket_name, "key": record.result_key, **where}
    return {"location": "record", **where}


def event_id(record: TaskRecord) -> str:
    """The same for every announcement of one state of one attempt: consumers drop duplicates by it
    (announcements are sent at least once)."""
    return f"{record.task_id}:{record.attempt}:{record.status.value}"


def task_detail(record: TaskRecord, bucket_name: str | None) -> dict[str, Any]:
    """The event's detail: ids, status, attempt, timings, error code and where the result is."""
    error = None
    if record.error_code is not None:
        error = {
            "code": record.error_code[:MAX_ERROR_CHARS],
            "message": (record.error_message or "")[:MAX_MESSAGE_CHARS],
        }
    return {
        "event_id": event_id(record),
        "task_id": record.task_id,
        "session_id": record.session_id,
        "kind": record.kind,
        "status": record.status.value,
        "attempt": record.attempt,
        "retention": record.retention,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "elapsed_seconds": round(max(0.0, record.updated_at - record.created_at), 3),
        "error": error,
        "result": result_location(record, bucket_name),
    }


def entry_size(detail_text: str, *, with_time: bool = True) -> int:
    """A PutEvents entry's size as EventBridge counts it (no resources)."""
    size = len(EVENT_SOURCE.encode()) + len(EVENT_DETAIL_TYPE.encode()) + len(detail_text.encode())
    return size + (TIME_BYTES if with_time else 0)


def callback_output(record: TaskRecord, bucket_name: str | None) -> str:
    """SendTaskSuccess's output: the detail, with the result inline when the whole fits the limit."""
    detail = task_detail(record, bucket_name)
    if record.result is not None:
        value: Any = json.loads(record.result) if record.result_format == "json" else record.result
        text = compact_json({**detail, "result": {**detail["result"], "value": value}})
        if len(text.encode()) <= MAX_OUTPUT_BYTES:
            return text
    return compact_json(detail)


def compact_json(value: Any) -> str:
    """JSON without spaces, UTF-8 kept as is (sizes are counted in UTF-8 bytes)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
