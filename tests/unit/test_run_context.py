"""What ``ctx.read_object`` raises when the bucket refuses a key: ``ObjectNotFound`` for a key that is
not there (S3 says NoSuchKey, or AccessDenied where the role may not list the prefix), while a
failure of S3 itself stays a storage failure. The host's failure is the engine's, as its ``_io``
raises it: :class:`StoreUnavailableError` caused by the driver's error."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from agent.errors import StoreUnavailableError
from agent.kinds.base import TaskError
from agent.kinds.sleep import KIND as SLEEP
from agent.records import TaskRecord, TaskStatus
from agent.run_context import RunContext, Running

pytestmark = pytest.mark.unit


class FailingHost:
    """A RunHost whose object reads fail the way the engine's do."""

    def __init__(self, cause: Exception) -> None:
        self.cause = cause
        self.stopping = False

    def remaining_seconds(self) -> float:
        return 100.0

    async def save_checkpoint(self, running: Running, state: Any) -> None:
        raise AssertionError("not used")

    async def read_object(self, key: str) -> bytes:
        error = StoreUnavailableError("get object")
        error.__cause__ = self.cause
        raise error

    def model(self) -> Any:
        raise AssertionError("not used")


def _context(cause: Exception) -> RunContext:
    now = time.time()
    record = TaskRecord(
        session_id="unit-session-00000000000000000000000001",
        task_id="0b7c0000-0000-4000-8000-000000000001",
        status=TaskStatus.RUNNING,
        kind="sleep",
        input_json='{"duration":1.0,"result_bytes":null}',
        created_at=now,
        updated_at=now,
        heartbeat_at=now,
        expires_at=int(now + 60),
    )
    return RunContext(
        Running(record=record, kind=SLEEP), FailingHost(cause), resume_state=None, checkpoint_interval=1
    )


def _client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": "secret driver text"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "GetObject",
    )


@pytest.mark.parametrize(("code", "status"), [("NoSuchKey", 404), ("AccessDenied", 403)])
def test_a_key_s3_refuses_is_object_not_found(code: str, status: int) -> None:
    ctx = _context(_client_error(code, status))
    with pytest.raises(TaskError) as raised:
        asyncio.run(ctx.read_object("inputs/missing.txt"))
    assert raised.value.code == "ObjectNotFound"
    assert "inputs/missing.txt" in raised.value.message
    assert "secret" not in raised.value.message


@pytest.mark.parametrize(
    "cause",
    [_client_error("SlowDown", 503), EndpointConnectionError(endpoint_url="http://s3")],
    ids=["throttled", "unreachable"],
)
def test_a_failing_s3_stays_a_storage_failure(cause: Exception) -> None:
    ctx = _context(cause)
    with pytest.raises(StoreUnavailableError):
        asyncio.run(ctx.read_object("inputs/a.txt"))
