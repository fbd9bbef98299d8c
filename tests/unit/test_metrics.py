"""Task and store metrics: valid EMF lines on stdout, one count per outcome, by kind.

Each line must be embedded metric format CloudWatch accepts (``tests/support/emf.py`` checks the
specification); its names are the ones the stacks chart and alarm on (``agentcore_async.contract.Metric``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from starlette.testclient import TestClient

from agent.records import TaskRecord, TaskStatus
from agent.service import create_app
from agent.settings import load_settings
from agent.store.base import Stores
from agent.store.memory import MemoryStore
from agent.store.retries import redis_retry
from agentcore_async.contract import METRIC_BREAKDOWN, Metric
from tests.support.emf import Point, counts, emf_points, emf_problems
from tests.unit.conftest import UNIT_ENV, Agent

pytestmark = pytest.mark.unit

RUNTIME = "agentcore_async_unit"
SESSION = "unit-metrics-0000000000000000000000001"
ENV = {**UNIT_ENV, "AGENT_RUNTIME_NAME": RUNTIME, "AGENT_MODEL_FACTORY": "tests.agent.scripted_model:create"}


@pytest.fixture
def unit_env() -> Mapping[str, str]:
    return ENV


def stale(kind: str, task_id: str, input_json: str) -> TaskRecord:
    """A RUNNING record whose microVM died a while ago (its heartbeat is older than the lease)."""
    now = time.time()
    return TaskRecord(
        session_id=SESSION,
        task_id=task_id,
        status=TaskStatus.RUNNING,
        kind=kind,
        input_json=input_json,
        created_at=now - 120,
        updated_at=now - 60,
        heartbeat_at=now - 60,
        expires_at=int(now + 3600),
    )


def assert_as_the_contract_says(points: list[Point], runtime: str | None = RUNTIME) -> None:
    """Each point is a metric the stacks chart (``agentcore_async.contract.METRIC_BREAKDOWN``), in the
    namespace and under the dimension sets they chart it by, for this runtime."""
    for point in points:
        assert (point.namespace, point.name in METRIC_BREAKDOWN) == (Metric.NAMESPACE, True), point
        breakdown = METRIC_BREAKDOWN[point.name]
        expected = ((Metric.RUNTIME, breakdown), (Metric.RUNTIME,)) if breakdown else ((Metric.RUNTIME,),)
        assert point.dimension_sets == expected, point
        if runtime is not None:
            assert point.dimensions[Metric.RUNTIME] == runtime


def wait(agent: Agent, task_id: object) -> dict[str, object]:
    return agent.invoke({"action": "get_task_result", "task_id": task_id, "wait_seconds": 10}, SESSION)


def test_each_outcome_is_counted_once_by_kind_in_valid_emf(
    stored_agent: Agent, store: MemoryStore, capsys: pytest.CaptureFixture[str]
) -> None:
    completed = stored_agent.invoke({"action": "start_background_task", "duration": 0.05}, SESSION)
    cancelled = stored_agent.invoke(
        {"action": "start_task", "kind": "once", "input": {"duration": 30}}, SESSION
    )
    failing = {"instruction": "upper", "items": [{"s3_key": "inputs/a.txt"}]}  # no bucket configured
    failed = stored_agent.invoke({"action": "start_task", "kind": "batch", "input": failing}, SESSION)
    assert wait(stored_agent, completed["task_id"])["status"] == "COMPLETED"
    assert (
        stored_agent.invoke({"action": "cancel_task", "task_id": cancelled["task_id"]}, SESSION)["status"]
        == "CANCELLED"
    )
    assert wait(stored_agent, failed["task_id"])["status"] == "FAILED"
    # Two tasks whose microVM died: one that cannot resume (LOST) and one that resumes and completes.
    store.create(stale("once", "7e0d4c1e-0000-4000-8000-00000000000a", '{"duration":5.0}'))
    store.create(
        stale("sleep", "7e0d4c1e-0000-4000-8000-00000000000b", '{"duration":0.05,"result_bytes":null}')
    )
    assert wait(stored_agent, "7e0d4c1e-0000-4000-8000-00000000000a")["status"] == "LOST"
    assert wait(stored_agent, "7e0d4c1e-0000-4000-8000-00000000000b")["status"] == "COMPLETED"

    points = emf_points(capsys.readouterr().out)
    assert_as_the_contract_says(points)
    assert counts(points, Kind="sleep") == {
        Metric.TASKS_STARTED: 1,
        Metric.TASKS_COMPLETED: 2,
        Metric.TASKS_SUSPENDED: 1,  # the stale one, as the poll found it
        Metric.TASKS_RESUMED: 1,
    }
    assert counts(points, Kind="once") == {
        Metric.TASKS_STARTED: 1,
        Metric.TASKS_CANCELLED: 1,
        Metric.TASKS_LOST: 1,
    }
    assert counts(points, Kind="batch") == {Metric.TASKS_STARTED: 1, Metric.TASKS_FAILED: 1}
    durations = {
        point.dimensions[Metric.KIND]: point.value for point in points if point.name == Metric.TASK_DURATION
    }
    assert set(durations) == {"sleep", "once", "batch"}
    assert all(point.unit == "Seconds" for point in points if point.name == Metric.TASK_DURATION)
    assert durations["once"] >= 119  # LOST: from its start two minutes ago to now


class _Unreachable(MemoryStore):
    """A store whose reads fail the way a driver's last retry does."""

    def get(self, session_id: str, task_id: str) -> TaskRecord | None:
        raise ConnectionError("the store does not answer")


def test_storage_unavailable_answers_and_store_failures_are_counted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with TestClient(create_app(load_settings(ENV), Stores(tasks=_Unreachable()))) as client:
        answer = Agent(client).invoke(
            {"action": "get_task_result", "task_id": "7e0d4c1e-0000-4000-8000-00000000000c"}, SESSION
        )
    assert answer["error"]["code"] == "StorageUnavailable"  # type: ignore[index]
    points = emf_points(capsys.readouterr().out)
    assert_as_the_contract_says(points)
    assert counts(points) == {Metric.STORE_FAILURES: 1, Metric.STORAGE_UNAVAILABLE: 1}
    [failure] = [point for point in points if point.name == Metric.STORE_FAILURES]
    assert failure.dimensions == {Metric.RUNTIME: RUNTIME, Metric.OPERATION: "get"}


@pytest.mark.parametrize("attempts", [1, 3])
def test_redis_retries_are_counted(attempts: int, capsys: pytest.CaptureFixture[str]) -> None:
    tries = []

    def refused() -> None:
        tries.append(1)
        raise RedisConnectionError("refused")

    with pytest.raises(RedisConnectionError):
        redis_retry(attempts=attempts, base_seconds=0.001).call_with_retry(refused, lambda _error: None)
    assert len(tries) == attempts
    points = emf_points(capsys.readouterr().out)
    assert_as_the_contract_says(points, runtime=None)
    assert counts(points, Store="redis") == ({Metric.STORE_RETRIES: attempts - 1} if attempts > 1 else {})


def test_the_emf_check_refuses_what_cloudwatch_would_not_extract() -> None:
    """Controls for ``emf_problems``: each document breaks one rule of the specification."""
    valid = {
        "_aws": {
            "Timestamp": 1795904791250,
            "CloudWatchMetrics": [
                {"Namespace": "N", "Dimensions": [["Runtime"]], "Metrics": [{"Name": "M", "Unit": "Count"}]}
            ],
        },
        "Runtime": "r",
        "M": 1,
    }
    assert emf_problems(valid) == []
    directive = valid["_aws"]["CloudWatchMetrics"][0]  # type: ignore[index]
    broken = [
        {**valid, "_aws": {**valid["_aws"], "Timestamp": "now"}},  # type: ignore[dict-item]
        {**valid, "Runtime": 7},
        {**valid, "M": "1"},
        {
            **valid,
            "_aws": {
                "Timestamp": 1,
                "CloudWatchMetrics": [{**directive, "Metrics": [{"Name": "M", "Unit": "Things"}]}],
            },
        },
        {**valid, "_aws": {"Timestamp": 1, "CloudWatchMetrics": [{**directive, "Namespace": ""}]}},
        {key: value for key, value in valid.items() if key != "_aws"},
    ]
    assert all(emf_problems(document) for document in broken)
