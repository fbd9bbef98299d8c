"""What the announcements carry, and that they fit AWS's limits (botocore's Stubber checks each
request against the service model, so a field over its length fails here)."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from botocore.stub import Stubber

from agent.announce.detail import (
    MAX_ENTRY_BYTES,
    MAX_MESSAGE_CHARS,
    MAX_OUTPUT_BYTES,
    callback_output,
    entry_size,
    task_detail,
)
from agent.announce.eventbridge import EventBridgePublisher
from agent.announce.stepfunctions import TaskTokenCallbacks
from agent.records import TaskRecord, TaskStatus
from agentcore_async.contract import SESSION_ID_MAX_LENGTH

pytestmark = pytest.mark.unit


def _record(**changes: object) -> TaskRecord:
    now = time.time()
    record = TaskRecord(
        session_id="s" * 40,
        task_id="0b7c8d2e-1f3a-4b5c-8d6e-7f8091a2b3c4",
        status=TaskStatus.COMPLETED,
        kind="sleep",
        input_json="{}",
        created_at=now - 2,
        updated_at=now,
        heartbeat_at=now,
        expires_at=int(now) + 60,
        result="done",
        result_size=4,
        callback_token="token-1",
    )
    return record.replace(**changes)


def test_the_largest_event_entry_fits_eventbridge_s_limit() -> None:
    worst = _record(
        session_id="s" * SESSION_ID_MAX_LENGTH,
        kind="k" * 64,
        status=TaskStatus.FAILED,
        error_code="E" * 10_000,
        error_message="\u20ac" * 100_000,  # three UTF-8 bytes each
        result=None,
    )
    detail = task_detail(worst, "bucket")
    assert len(detail["error"]["message"]) == MAX_MESSAGE_CHARS
    size = entry_size(json.dumps(detail, separators=(",", ":"), ensure_ascii=False))
    assert size < MAX_ENTRY_BYTES / 10


def test_a_result_too_large_for_sendtasksuccess_is_only_located() -> None:
    small = json.loads(callback_output(_record(), None))
    assert small["result"] == {"location": "record", "format": "text", "size_bytes": 4, "value": "done"}
    big_text = "x" * MAX_OUTPUT_BYTES
    big = callback_output(_record(result=big_text, result_size=len(big_text)), None)
    assert len(big.encode()) <= MAX_OUTPUT_BYTES
    assert json.loads(big)["result"] == {
        "location": "record",
        "format": "text",
        "size_bytes": MAX_OUTPUT_BYTES,
    }


def test_a_json_result_is_inlined_as_json() -> None:
    output = json.loads(callback_output(_record(result='{"a":[1,2]}', result_format="json"), None))
    assert output["result"]["value"] == {"a": [1, 2]}


def test_failure_sends_the_code_and_message_within_their_limits() -> None:
    callbacks = TaskTokenCallbacks(bucket_name=None, attempts=1)
    record = _record(status=TaskStatus.FAILED, result=None, error_code="C" * 300, error_message="m" * 40_000)
    callbacks.complete(_record(callback_token=None))  # no token: nothing to send (no client either)
    assert callbacks._client is None
    callbacks._client = boto3.session.Session(region_name="us-east-1").client("stepfunctions")
    with Stubber(callbacks._client) as stub:
        stub.add_response(
            "send_task_failure", {}, {"taskToken": "token-1", "error": "C" * 256, "cause": "m" * 32_768}
        )
        callbacks.complete(record)
        stub.assert_no_pending_responses()


def test_lost_and_cancelled_tasks_fail_their_token_with_their_code() -> None:
    callbacks = TaskTokenCallbacks(bucket_name=None, attempts=1)
    callbacks._client = boto3.session.Session(region_name="us-east-1").client("stepfunctions")
    with Stubber(callbacks._client) as stub:
        for code, message in (("TaskLost", "its microVM ended"), ("Cancelled", "cancelled by request")):
            stub.add_response(
                "send_task_failure", {}, {"taskToken": "token-1", "error": code, "cause": message}
            )
        callbacks.complete(
            _record(status=TaskStatus.LOST, error_code="TaskLost", error_message="its microVM ended")
        )
        callbacks.complete(
            _record(status=TaskStatus.CANCELLED, error_code="Cancelled", error_message="cancelled by request")
        )
        callbacks.complete(_record(status=TaskStatus.SUSPENDED))  # not final: the token waits
        stub.assert_no_pending_responses()


def test_a_refused_entry_is_sent_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """PutEvents refuses an entry inside a 200 answer, which botocore does not retry."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    publisher = EventBridgePublisher("tasks", bucket_name=None, attempts=2, base_seconds=0.001)
    record = _record()
    with Stubber(publisher._client) as stub:
        entry = publisher.entry(record)
        refused = {
            "FailedEntryCount": 1,
            "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "slow"}],
        }
        stub.add_response("put_events", refused, {"Entries": [entry]})
        stub.add_response(
            "put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]}, {"Entries": [entry]}
        )
        publisher.publish(record)
        stub.assert_no_pending_responses()
