"""The client installs on its own into an empty venv, from the repository, with only boto3 and rich,
and its agentcore-async command runs a task against the emulator from outside the checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator.harness import REPO_ROOT, RunningEmulator, running_emulator

NOT_INSTALLED = ("aws_cdk", "agent", "emulator", "stacks", "starlette", "uvicorn", "moto")


def uv() -> str:
    found = shutil.which("uv") or str(REPO_ROOT / ".venv" / "bin" / "uv")
    if not Path(found).exists():
        pytest.fail("uv is needed to build an empty venv (make bootstrap installs it into .venv)")
    return found


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An empty venv with the client installed from the repository: its bin directory."""
    venv = tmp_path_factory.mktemp("client-venv") / "venv"
    subprocess.run([uv(), "venv", "--quiet", str(venv)], check=True, timeout=120)
    subprocess.run(
        [uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(REPO_ROOT)],
        check=True,
        timeout=600,
    )
    yield venv / "bin"


def outside(tmp_path: Path) -> dict[str, str]:
    """An environment that cannot see the checkout: no PYTHONPATH, no saved state, no AWS."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AGENTCORE_", "PYTHON"))}
    env["AWS_CONFIG_FILE"] = str(tmp_path / "no-config")
    return env


def test_only_the_client_and_its_dependencies_are_installed(installed: Path, tmp_path: Path) -> None:
    probe = (
        "import importlib.util, json, sys; "
        "print(json.dumps({m: bool(importlib.util.find_spec(m)) for m in sys.argv[1:]}))"
    )
    found = subprocess.run(
        [str(installed / "python"), "-c", probe, "client", "boto3", "rich", *NOT_INSTALLED],
        cwd=tmp_path,
        env=outside(tmp_path),
        capture_output=True,
        text=True,
        check=True,
    )
    present = json.loads(found.stdout)
    assert present.pop("client") and present.pop("boto3") and present.pop("rich")
    assert not any(present.values()), present
    help_text = subprocess.run(
        [str(installed / "agentcore-async"), "--help"],
        cwd=tmp_path,
        env=outside(tmp_path),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "wait" in help_text and "Exit codes" in help_text
    version = subprocess.run(
        [str(installed / "agentcore-async"), "--version"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert version.split()[-1] != "0+unknown"  # the distribution's version


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator("--idle-timeout", "60", "--max-lifetime", "600") as running:
        yield running


def test_the_installed_command_runs_a_task_from_outside_the_checkout(
    installed: Path, emulator: RunningEmulator, tmp_path: Path
) -> None:
    env = {**outside(tmp_path), "AGENTCORE_ENDPOINT_URL": emulator.url, "AGENTCORE_RUNTIME_ARN": emulator.arn}
    command = str(installed / "agentcore-async")
    started = subprocess.run(
        [command, "start", "--duration", "1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode == 0, started.stderr
    waited = subprocess.run(
        [command, "wait", started.stdout.strip(), "--timeout", "60"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert waited.returncode == 0, waited.stderr
    assert json.loads(waited.stdout)["status"] == "COMPLETED"
    assert (tmp_path / ".agentcore-session.json").exists()  # the session was saved where it ran
