"""The client installs on its own into an empty venv, from the repository, with only boto3 and rich,
and its agentcore-async command runs a task against the emulator from outside the checkout.

What may be installed is an allow-list computed from the installed distributions' own metadata:
the client, whose requirements must be exactly boto3 and rich, and what those two require in turn
(their Requires-Dist under this interpreter's markers). Anything else in the venv (pydantic,
strands, opentelemetry, ...) fails the test, whichever way it got there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.emulator.harness import REPO_ROOT, RunningEmulator, running_emulator

CLIENT: Final = "agentcore-async-client"
CLIENT_REQUIRES: Final = frozenset({"boto3", "rich"})
"""The client's only dependencies (``pyproject.toml``)."""
CLIENT_PACKAGES: Final = frozenset({"agentcore_async"})
"""The top-level packages the client's distribution installs (not the agent, the emulator, the stacks)."""
DISTRIBUTIONS_PROBE: Final = """
import importlib.metadata, json
print(json.dumps([
    {
        "name": dist.metadata["Name"],
        "requires": dist.requires or [],
        "top_level": sorted({
            file.parts[0] for file in dist.files or []
            if file.parts[0] != ".." and not file.parts[0].endswith(".dist-info")
        }),
    }
    for dist in importlib.metadata.distributions()
]))
"""


def uv() -> str:
    found = shutil.which("uv") or str(REPO_ROOT / ".venv" / "bin" / "uv")
    if not Path(found).exists():
        pytest.fail("uv is needed to build an empty venv (make bootstrap installs it into .venv)")
    return found


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An empty venv with the client installed from the repository: its bin directory."""
    venv = tmp_path_factory.mktemp("client-venv") / "venv"
    # This interpreter, so that the requirements' markers evaluate here as they did there.
    subprocess.run([uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, timeout=120)
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


def requirements(requires: list[str], extras: frozenset[str]) -> set[tuple[str, frozenset[str]]]:
    """The (name, extras) a distribution requires here, with ``extras`` of its own requested."""
    needed: set[tuple[str, frozenset[str]]] = set()
    for line in requires:
        requirement = Requirement(line)
        environments = [{"extra": extra} for extra in extras] or [{"extra": ""}]
        if requirement.marker is None or any(requirement.marker.evaluate(env) for env in environments):
            needed.add((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    return needed


def allowed(installed: dict[str, dict[str, Any]]) -> tuple[set[str], set[str]]:
    """What the client's requirements bring in, by the installed metadata; and what they need
    but is not installed."""
    closure: set[str] = {CLIENT}
    missing: set[str] = set()
    pending = requirements(installed[CLIENT]["requires"], frozenset())
    seen: set[tuple[str, frozenset[str]]] = set()
    while pending:
        name, extras = pending.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        if name not in installed:
            missing.add(name)
            continue
        closure.add(name)
        pending |= requirements(installed[name]["requires"], extras)
    return closure, missing


def test_only_the_client_and_its_dependencies_are_installed(installed: Path, tmp_path: Path) -> None:
    found = subprocess.run(
        [str(installed / "python"), "-c", DISTRIBUTIONS_PROBE],
        cwd=tmp_path,
        env=outside(tmp_path),
        capture_output=True,
        text=True,
        check=True,
    )
    distributions: dict[str, dict[str, Any]] = {
        canonicalize_name(dist["name"]): dist for dist in json.loads(found.stdout)
    }
    client = distributions[CLIENT]
    direct = {name for name, _ in requirements(client["requires"], frozenset())}
    assert direct == CLIENT_REQUIRES, f"the client must require only boto3 and rich, not {direct}"
    assert set(client["top_level"]) == CLIENT_PACKAGES, client["top_level"]
    closure, missing = allowed(distributions)
    assert not missing, f"required but not installed: {sorted(missing)}"
    extra = set(distributions) - closure
    assert not extra, f"installed, yet neither the client nor a dependency of boto3 or rich: {sorted(extra)}"
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
    # A caller's trace context in the environment does not break the call without opentelemetry
    # installed (that it arrives is checked in tests/emulator/test_tracing.py).
    traced = {**env, "TRACEPARENT": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
    started = subprocess.run(
        [command, "start", "--duration", "1"],
        cwd=tmp_path,
        env=traced,
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
