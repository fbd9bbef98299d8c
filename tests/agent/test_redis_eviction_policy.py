"""The Redis store needs ``maxmemory-policy noeviction``: an evicting server would drop ephemeral task
records under memory pressure. The agent says so at start when the server reports another policy,
and stays quiet when it reports noeviction or will not say (CONFIG refused, as on ElastiCache)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.agent.helpers import eventually
from tests.support.agent_process import FAST_TIMERS, AgentProcess, running_agent
from tests.support.servers import running_redis

WARNING = "Redis evicts keys under memory pressure: the store needs maxmemory-policy noeviction"
CHECKED = "Redis eviction policy checked"


def _policy_lines(agent: AgentProcess) -> list[dict[str, Any]]:
    return [r for r in agent.log_records() if r.get("message") in (WARNING, CHECKED)]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (("--maxmemory-policy", "allkeys-lru"), (WARNING, "allkeys-lru")),
        ((), (CHECKED, "noeviction")),
        (("--rename-command", "CONFIG", ""), (CHECKED, None)),
    ],
    ids=["allkeys-lru", "noeviction", "config-refused"],
)
def test_the_agent_warns_at_start_only_when_redis_may_evict(
    tmp_path: Path, config: tuple[str, ...], expected: tuple[str, str | None]
) -> None:
    with running_redis(config=config) as server:
        env = {
            **FAST_TIMERS,
            "AGENT_SQLITE_PATH": str(tmp_path / "tasks.sqlite3"),
            "AGENT_REDIS_URL": server.url,
        }
        with running_agent(env) as agent:
            (line,) = eventually(lambda: _policy_lines(agent), what="the eviction policy check")
            assert (line["message"], line.get("maxmemory_policy")) == expected
