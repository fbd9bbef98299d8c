"""Fixtures for the agent suite: real ``python -m agent`` processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support.agent_process import FAST_TIMERS, AgentProcess, running_agent

StartAgent = Callable[..., AgentProcess]


@pytest.fixture
def start_agent(tmp_path: Path) -> Iterator[StartAgent]:
    """Start agents with scaled timers and a per-test SQLite file (override with keyword env vars)."""
    with ExitStack() as stack:

        def start(**env: str) -> AgentProcess:
            full = {**FAST_TIMERS, "AGENT_SQLITE_PATH": str(tmp_path / "tasks.sqlite3"), **env}
            return stack.enter_context(running_agent(full))

        yield start


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProcess]:
    """One agent on SQLite with fast timers, shared by a module (tests use their own sessions)."""
    path = tmp_path_factory.mktemp("agent") / "tasks.sqlite3"
    with running_agent({**FAST_TIMERS, "AGENT_SQLITE_PATH": str(path)}) as process:
        yield process
