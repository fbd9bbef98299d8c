"""The nemesis end to end on a deliberately broken build: its checker must report the broken
promise, print the seed, and exit non-zero."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.agent_process import REPO_ROOT


@pytest.mark.slow
def test_a_build_that_drops_its_events_is_caught(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "nemesis", "--seed", "5", "--seconds", "6", "--store", "sqlite"]
    done = subprocess.run(
        [*command, "--agent-module", "tests.support.silent_agent", "--keep", str(tmp_path / "run")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    lines = done.stdout.splitlines()
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert any(line.startswith("VIOLATION seed 5 [announced]") for line in lines)
    assert lines[-1].startswith("nemesis: seed 5, ") and lines[-1].endswith(" violations")
    assert "Traceback" not in done.stderr
