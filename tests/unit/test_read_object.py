"""What a kind's ``ctx.read_object`` meets when the bucket misbehaves, as the engine classifies it.

A key the bucket refuses (S3 says NoSuchKey, or AccessDenied where the role may not list the
prefix) is the caller's mistake: ``ObjectNotFound``, neither logged nor counted as a storage
failure (the store-failure metric feeds alarms). S3 failing to answer is an outage: the read is
held and repeated until S3 answers, as checkpoints are, so one blip does not fail a long batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from agent.engine import TaskEngine
from agent.errors import StoreUnavailableError
from agent.kinds import KIND_MODULES
from agent.kinds.registry import Kinds
from agent.ping import PingState
from agent.settings import load_settings
from agent.store.base import Stores
from agent.store.memory import MemoryStore
from agentcore_async.contract import Metric
from agentcore_async.kinds import TaskError
from tests.support.emf import emf_points
from tests.unit.conftest import UNIT_ENV

pytestmark = pytest.mark.unit

KEY = "inputs/report-7.txt"


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": "secret driver text"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "GetObject",
    )


class ScriptedBlobs:
    """A bucket whose reads raise the scripted failures in turn, then return the object."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.reads = 0

    def get(self, key: str) -> bytes:
        self.reads += 1
        if self.failures:
            raise self.failures.pop(0)
        return f"text of {key}".encode()

    def put(self, key: str, data: bytes) -> None:
        raise AssertionError("not used")

    def presign(self, key: str, expires_in: int) -> str:
        raise AssertionError("not used")

    def close(self) -> None:
        pass


EngineOn = Callable[["ScriptedBlobs"], TaskEngine]


@pytest.fixture
def engine_on() -> Iterator[EngineOn]:
    """An engine on the memory store with ``blobs`` as its bucket; shut down after the test."""
    engines: list[TaskEngine] = []

    def build(blobs: ScriptedBlobs) -> TaskEngine:
        settings = load_settings({**UNIT_ENV, "AGENT_RETRY_BASE_SECONDS": "0.01"})
        engine = TaskEngine(
            settings,
            Stores(tasks=MemoryStore(), blobs=blobs, blob_key=lambda record: record.task_id),
            busy=PingState(),
            kinds=Kinds.load(KIND_MODULES),
        )
        engines.append(engine)
        return engine

    yield build
    for engine in engines:
        asyncio.run(engine.shutdown())


@pytest.mark.parametrize(("code", "status"), [("NoSuchKey", 404), ("AccessDenied", 403)])
def test_a_key_the_bucket_refuses_is_object_not_found_and_no_storage_failure(
    engine_on: EngineOn,
    code: str,
    status: int,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    blobs = ScriptedBlobs(client_error(code, status))
    engine = engine_on(blobs)
    with caplog.at_level(logging.INFO), pytest.raises(TaskError) as raised:
        asyncio.run(engine.read_object(KEY))
    assert raised.value.code == "ObjectNotFound"
    assert KEY in raised.value.message and "secret" not in raised.value.message
    assert blobs.reads == 1  # refused at once: nothing to wait for
    assert "storage call failed" not in caplog.text
    assert [p for p in emf_points(capsys.readouterr().out) if p.name == Metric.STORE_FAILURES] == []


def test_an_outage_is_held_until_the_bucket_answers(
    engine_on: EngineOn, capsys: pytest.CaptureFixture[str]
) -> None:
    blobs = ScriptedBlobs(client_error("SlowDown", 503), EndpointConnectionError(endpoint_url="http://s3"))
    engine = engine_on(blobs)
    assert asyncio.run(engine.read_object(KEY)) == f"text of {KEY}".encode()
    assert blobs.reads == 3
    failures = [p for p in emf_points(capsys.readouterr().out) if p.name == Metric.STORE_FAILURES]
    assert len(failures) == 2  # each failed read is counted once


def test_an_unexpected_failure_is_a_storage_failure(engine_on: EngineOn) -> None:
    engine = engine_on(ScriptedBlobs(ValueError("a driver bug")))
    with pytest.raises(StoreUnavailableError):
        asyncio.run(engine.read_object(KEY))
