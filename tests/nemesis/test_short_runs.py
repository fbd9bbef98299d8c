"""A short nemesis per store in every ``make test``: a few fixed seeds, each checked by the same
invariants as a long run. A seed that once found a defect stays here as a regression case."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.agent_process import REPO_ROOT

SHORT_RUNS = [
    ("sqlite", 11, 8),
    ("dynamodb", 11, 8),
    ("redis", 11, 8),
]
"""(store, seed, seconds of faults): about a minute in all, on one xdist worker."""


@pytest.mark.slow
@pytest.mark.parametrize(("store", "seed", "seconds"), SHORT_RUNS, ids=[f"{s}-{n}" for s, n, _ in SHORT_RUNS])
def test_a_short_nemesis_run_finds_no_violation(store: str, seed: int, seconds: int, tmp_path: Path) -> None:
    options = ["--seed", str(seed), "--seconds", str(seconds), "--store", store, "--keep", str(tmp_path)]
    command = [sys.executable, "-m", "nemesis", *options]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=400, check=False)
    last = done.stdout.splitlines()[-1] if done.stdout else ""
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert last.startswith(f"nemesis: seed {seed}, ") and last.endswith(", 0 violations")
