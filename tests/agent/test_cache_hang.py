"""A hung Redis (accepts connections, never answers) in front of DynamoDB costs no more than a cache
miss: polls and listings of durable tasks answer at once, and starts do not wait behind them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from nemesis.proxy import Proxy, proxied
from tests.agent.aws import AwsResources, create_resources
from tests.agent.helpers import get_task, new_session, start_task
from tests.support.agent_process import FAST_TIMERS, AgentProcess, running_agent
from tests.support.servers import MotoServer, RedisServer

BUDGET_SECONDS = 2.0
"""What an answer may take while the cache hangs: a miss plus slack for a loaded machine (a
hung cache used to cost 10 s a poll and 21 s a listing)."""
IO_THREADS = 4
"""A small storage pool, so calls stuck on the cache would show by starving it."""


@pytest.fixture(scope="module")
def aws(moto_server: MotoServer) -> AwsResources:
    return create_resources(moto_server)


@pytest.fixture
def redis_proxy(redis_server: RedisServer) -> Iterator[Proxy]:
    with proxied(("127.0.0.1", redis_server.port)) as proxy:
        yield proxy


@pytest.fixture
def agent(aws: AwsResources, redis_proxy: Proxy) -> Iterator[AgentProcess]:
    env = {
        **FAST_TIMERS,
        **aws.env(),
        "AGENT_REDIS_URL": f"redis://127.0.0.1:{redis_proxy.port}",
        "AGENT_IO_THREADS": str(IO_THREADS),
    }
    with running_agent(env) as process:
        yield process


def _timed(call: Any) -> tuple[float, Any]:
    started = time.monotonic()
    answer = call()
    return time.monotonic() - started, answer


def test_a_hung_cache_costs_no_more_than_a_miss(agent: AgentProcess, redis_proxy: Proxy) -> None:
    session = new_session()
    task_id = start_task(agent, session, duration=0.1)
    assert get_task(agent, task_id, session, wait=20)["status"] == "COMPLETED"  # now cached too

    redis_proxy.set_mode("hang")

    elapsed, (status, listing) = _timed(lambda: agent.invoke({"action": "list_tasks"}, session))
    assert status == 200, listing
    assert [t["task_id"] for t in listing["tasks"]] == [task_id]
    assert elapsed < BUDGET_SECONDS, f"list_tasks took {elapsed:.1f}s"
    for _ in range(3):
        elapsed, answer = _timed(lambda: get_task(agent, task_id, session))
        assert answer["result"] == "Task completed after 0.1s"
        assert elapsed < BUDGET_SECONDS, f"a poll took {elapsed:.1f}s"

    # Pollers twice the storage pool, and starts beside them: no start waits for the cache.
    with ThreadPoolExecutor(max_workers=3 * IO_THREADS) as clients:
        polls = [
            clients.submit(_timed, lambda: get_task(agent, task_id, session)) for _ in range(2 * IO_THREADS)
        ]
        starts = [clients.submit(_timed, lambda: start_task(agent, session, duration=0.1)) for _ in range(4)]
        start_times = [future.result()[0] for future in starts]
        poll_times = [future.result()[0] for future in polls]
    assert max(start_times) < BUDGET_SECONDS, start_times
    assert max(poll_times) < BUDGET_SECONDS, poll_times

    # A new session's first invocation looks for its suspended tasks, ephemeral ones included.
    elapsed, _ = _timed(lambda: start_task(agent, new_session(), duration=0.1))
    assert elapsed < BUDGET_SECONDS, f"a start in a new session took {elapsed:.1f}s"
