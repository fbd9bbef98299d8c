"""The one retry layer: the drivers retry (botocore's standard mode, redis-py's Retry), the agent only
classifies what is left. A store that fails on purpose shows the worst case the README states:
AGENT_WRITE_ATTEMPTS calls per operation, then StorageUnavailable within a bounded time; every
retry, failed call and StorageUnavailable answer is counted in the agent's metrics."""

from __future__ import annotations

import hashlib
import time

import pytest
import redis
from botocore.exceptions import ClientError, EndpointConnectionError

from agent.store.failures import is_transient
from agent.store.redis_store import CREATE_SCRIPT
from agent.store.retries import REDIS_BACKOFF_CAP_SECONDS
from agentcore_async.contract import Metric
from tests.agent.helpers import new_session
from tests.support.agent_process import FAST_TIMERS, running_agent
from tests.support.emf import counts, emf_points
from tests.support.failing_servers import failing_aws
from tests.support.reply_dropper import reply_dropper
from tests.support.servers import RedisServer

ATTEMPTS = 3
AWS_BACKOFF_BOUND = 1 + 2
"""botocore's standard mode waits at most 1 s, then 2 s, between three attempts."""


def _client_error(code: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutItem"
    )


def test_classification() -> None:
    assert is_transient(_client_error("SlowDown", 503))
    assert is_transient(_client_error("Whatever", 500))
    assert is_transient(_client_error("ProvisionedThroughputExceededException"))
    assert is_transient(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"))
    assert is_transient(
        redis.exceptions.OutOfMemoryError("command not allowed when used memory > 'maxmemory'")
    )
    assert is_transient(redis.exceptions.ReadOnlyError("You can't write against a read only replica."))
    assert not is_transient(_client_error("ValidationException"))
    assert not is_transient(redis.ResponseError("WRONGTYPE Operation against a key holding the wrong kind"))
    assert not is_transient(ValueError("bad"))


def test_a_failing_dynamodb_gets_exactly_the_configured_calls_then_storage_unavailable() -> None:
    with failing_aws() as dynamodb:
        env = {
            **FAST_TIMERS,
            "AGENT_TABLE_NAME": "tasks",
            "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{dynamodb.port}",
            "AGENT_WRITE_ATTEMPTS": str(ATTEMPTS),
            "AGENT_LOG_LEVEL": "ERROR",
        }
        with running_agent(env) as agent:
            began = time.monotonic()
            status, body = agent.invoke({"action": "start_background_task", "duration": 1}, new_session())
            took = time.monotonic() - began
            assert (status, body["error"]["code"]) == (200, "StorageUnavailable"), body
            assert dynamodb.count("PutItem") == ATTEMPTS, dynamodb.calls
            assert took < AWS_BACKOFF_BOUND + 2, f"StorageUnavailable after {took:.1f}s"
            points = emf_points(agent.logs())
    # Up to the answer: the session's first read (unfinished tasks) and the create, each retried by
    # botocore to the configured attempts, each counted as it happened; then the one answer.
    answered = next(i for i, p in enumerate(points) if p.name == Metric.STORAGE_UNAVAILABLE)
    before = points[:answered]
    assert counts(before, Store="dynamodb") == {Metric.STORE_RETRIES: 2 * (ATTEMPTS - 1)}
    assert sorted(p.dimensions[Metric.OPERATION] for p in before if p.name == Metric.STORE_FAILURES) == [
        "create",
        "unfinished",
    ]


@pytest.mark.parametrize("attempts", [1, ATTEMPTS])
def test_a_failing_redis_gets_exactly_the_configured_tries_then_storage_unavailable(
    redis_server: RedisServer, attempts: int
) -> None:
    with reply_dropper(redis_server.port) as proxy:
        # The script that creates an ephemeral task never reaches Redis; everything else does.
        proxy.refuse_every(hashlib.sha1(CREATE_SCRIPT.encode()).hexdigest().encode())
        env = {
            **FAST_TIMERS,
            "AGENT_REDIS_URL": f"redis://127.0.0.1:{proxy.port}/0",
            "AGENT_STORE_BACKEND": "memory",
            "AGENT_ALLOW_MEMORY_STORE": "true",
            "AGENT_WRITE_ATTEMPTS": str(attempts),
            "AGENT_RETRY_BASE_SECONDS": "0.05",
            "AGENT_LOG_LEVEL": "ERROR",
        }
        with running_agent(env) as agent:
            began = time.monotonic()
            payload = {"action": "start_background_task", "duration": 1, "retention": "ephemeral"}
            status, body = agent.invoke(payload, new_session())
            took = time.monotonic() - began
            assert (status, body["error"]["code"]) == (200, "StorageUnavailable"), body
            assert proxy.refused == attempts
            assert took < attempts * REDIS_BACKOFF_CAP_SECONDS + 2
            points = emf_points(agent.logs())
    answered = next(i for i, p in enumerate(points) if p.name == Metric.STORAGE_UNAVAILABLE)
    assert counts(points[:answered], Store="redis")[Metric.STORE_RETRIES] == attempts - 1
