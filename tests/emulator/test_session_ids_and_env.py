"""Session id rules and the environment each agent process gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.settings import load_settings
from agentcore_async.contract import EnvVar
from emulator.config import EmulatorConfig, Lifecycle
from emulator.process import agent_environment
from emulator.session_ids import generated_session_id
from emulator.session_ids import runtime_session_id_problem as session_id_problem


@pytest.mark.parametrize("session_id", ["a" * 33, "A" * 256, "session-" + "0" * 25, "x_" * 20])
def test_valid_session_ids(session_id: str) -> None:
    assert session_id_problem(session_id) is None


@pytest.mark.parametrize(
    ("session_id", "problem"),
    [("a" * 32, "33-256"), ("a" * 257, "33-256"), ("-" + "a" * 40, "letters"), ("a" * 40 + " x", "letters")],
)
def test_invalid_session_ids_name_the_problem(session_id: str, problem: str) -> None:
    message = session_id_problem(session_id)
    assert message is not None
    assert problem in message


def test_generated_session_ids_are_valid_and_distinct() -> None:
    ids = {generated_session_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(session_id_problem(i) is None for i in ids)


def test_agent_store_goes_to_the_microvm_disk_by_default(tmp_path: Path) -> None:
    env = agent_environment(EmulatorConfig(), port=1234, disk=tmp_path, base={})
    assert env[EnvVar.PORT] == "1234"
    assert env[EnvVar.STORE_BACKEND] == "sqlite"
    assert Path(env[EnvVar.SQLITE_PATH]).parent == tmp_path.resolve()
    assert env[EnvVar.MAX_LIFETIME_SECONDS] == "28800"


def test_a_shared_store_dir_outlives_the_microvm(tmp_path: Path) -> None:
    store = tmp_path / "store"
    env = agent_environment(EmulatorConfig(store_dir=store), port=1, disk=tmp_path / "disk", base={})
    assert Path(env[EnvVar.SQLITE_PATH]).parent == store.resolve()


def test_a_store_chosen_by_the_user_is_left_alone(tmp_path: Path) -> None:
    base = {EnvVar.STORE_BACKEND: "dynamodb", EnvVar.TABLE_NAME: "tasks"}
    env = agent_environment(EmulatorConfig(store_dir=tmp_path), port=1, disk=tmp_path, base=base)
    assert env[EnvVar.STORE_BACKEND] == "dynamodb"
    assert EnvVar.SQLITE_PATH not in env


def test_a_table_name_alone_selects_dynamodb_as_it_does_outside_the_emulator(tmp_path: Path) -> None:
    base = {EnvVar.TABLE_NAME: "tasks"}
    env = agent_environment(EmulatorConfig(store_dir=tmp_path), port=1, disk=tmp_path, base=base)
    assert load_settings(env).backend == load_settings(base).backend == "dynamodb"
    assert EnvVar.SQLITE_PATH not in env


def test_fast_timers_are_passed_to_the_agent_too(tmp_path: Path) -> None:
    """The agent needs its real lifetime for resumable work and duration limits, fast timers included."""
    config = EmulatorConfig(lifecycle=Lifecycle(idle_timeout=2, max_lifetime=7.5), fast_timers=True)
    env = agent_environment(config, port=1, disk=tmp_path, base={EnvVar.MAX_LIFETIME_SECONDS: "100"})
    settings = load_settings(env)
    assert (settings.max_lifetime_seconds, settings.idle_timeout_seconds) == (7.5, 2)
