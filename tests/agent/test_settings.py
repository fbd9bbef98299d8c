"""Settings: validated at start (not import), backend choice, and the names the stacks import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agent.settings import SettingsError, load_settings
from agentcore_async.contract import EnvVar, TableSchema
from tests.support.agent_process import agent_env

REPO = Path(__file__).resolve().parents[2]


def test_backend_defaults_to_sqlite_and_follows_the_table_name() -> None:
    assert load_settings({}).backend == "sqlite"
    assert load_settings({EnvVar.TABLE_NAME: "tasks"}).backend == "dynamodb"
    assert load_settings({EnvVar.STORE_BACKEND: "sqlite", EnvVar.TABLE_NAME: "tasks"}).backend == "sqlite"


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({EnvVar.STORE_BACKEND: "memory"}, EnvVar.ALLOW_MEMORY_STORE),
        ({EnvVar.STORE_BACKEND: "dynamodb"}, EnvVar.TABLE_NAME),
        ({EnvVar.STORE_BACKEND: "postgres"}, EnvVar.STORE_BACKEND),
        ({EnvVar.HEARTBEAT_SECONDS: "5", EnvVar.LEASE_SECONDS: "5"}, EnvVar.LEASE_SECONDS),
        ({EnvVar.REDIS_URL: "http://cache:6379"}, EnvVar.REDIS_URL),
        ({EnvVar.PORT: "70000"}, EnvVar.PORT),
        ({EnvVar.MAX_LIFETIME_SECONDS: "30000"}, EnvVar.MAX_LIFETIME_SECONDS),
        ({EnvVar.STOP_GRACE_SECONDS: "15"}, EnvVar.STOP_GRACE_SECONDS),
        ({EnvVar.STOP_GRACE_SECONDS: "0"}, EnvVar.STOP_GRACE_SECONDS),
        (
            {EnvVar.S3_THRESHOLD_BYTES: "5000", EnvVar.PRESIGN_THRESHOLD_BYTES: "10"},
            EnvVar.PRESIGN_THRESHOLD_BYTES,
        ),
    ],
)
def test_invalid_settings_are_named(env: dict[str, str], needle: str) -> None:
    with pytest.raises(SettingsError, match=needle):
        load_settings(env)


def test_memory_store_only_when_allowed() -> None:
    settings = load_settings({EnvVar.STORE_BACKEND: "memory", EnvVar.ALLOW_MEMORY_STORE: "true"})
    assert settings.backend == "memory"


def test_importing_needs_no_environment_and_the_process_refuses_bad_settings() -> None:
    subprocess.run(
        [sys.executable, "-c", "import agent.settings, agent.service"],
        cwd=REPO,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    result = subprocess.run(
        [sys.executable, "-m", "agent"],
        check=False,
        cwd=REPO,
        env=agent_env({EnvVar.STORE_BACKEND: "memory"}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert EnvVar.ALLOW_MEMORY_STORE in result.stderr
    assert "Traceback" not in result.stderr


def test_table_schema_names_match_the_issue() -> None:
    assert (TableSchema.PARTITION_KEY, TableSchema.SORT_KEY) == ("session_id", "task_id")
    assert (TableSchema.CREATED_INDEX, TableSchema.CREATED_ATTRIBUTE) == ("by_created_at", "created_at")
    assert TableSchema.TTL_ATTRIBUTE == "expires_at"


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        ("directory", "is a directory"),
        ("not a database", "not a SQLite database"),
        ("under a file", "not a directory"),
    ],
)
def test_an_unusable_sqlite_path_exits_2_with_one_line(tmp_path: Path, kind: str, problem: str) -> None:
    paths = {
        "directory": tmp_path,
        "not a database": tmp_path / "notes.txt",
        "under a file": tmp_path / "notes.txt" / "tasks.sqlite3",
    }
    (tmp_path / "notes.txt").write_text("these are not the tasks you are looking for\n" * 100)
    result = subprocess.run(
        [sys.executable, "-m", "agent"],
        check=False,
        cwd=REPO,
        env=agent_env({EnvVar.SQLITE_PATH: str(paths[kind])}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert EnvVar.SQLITE_PATH in line and problem in line, line
