"""Figure 6: time to synthesize every stage x preset in one process, and the test suite's wall time."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from bench.config import BenchConfig
from bench.environment import Environment
from bench.processes import PROJECT_ROOT, python_module
from bench.results import FigureResult, Row
from bench.timed import load

TEST_WALL_RECORD = PROJECT_ROOT / "bench" / ".work" / "test-wall-time.json"
SYNTH_TIMEOUT_SECONDS = 600


def synth_seconds(outdir: Path) -> tuple[int, float]:
    """(combinations, seconds) from one ``bench.synth_all`` process."""
    completed = subprocess.run(
        python_module("bench.synth_all", str(outdir)),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=SYNTH_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"synth failed: {completed.stderr.strip().splitlines()[-1:]}")
    data = json.loads(completed.stdout.strip().splitlines()[-1])
    return int(data["combinations"]), float(data["seconds"])


def suite_wall_time(record: Path) -> tuple[list[Row], str]:
    """The row (if recorded) and the note about the test suite's last recorded wall time."""
    wall = load(record)
    if wall is None:
        return [], "Test suite wall time: not recorded (run `make test` first; it records its own time)."
    outcome = "passed" if wall.exit_code == 0 else f"failed with exit code {wall.exit_code}"
    row = Row(6, "test suite wall time (`make test`)", "s", wall.seconds, None)
    return [row], f"Test suite wall time: last recorded {wall.finished_at}; that run {outcome}."


def run(env: Environment, config: BenchConfig, record: Path = TEST_WALL_RECORD) -> FigureResult:
    """Synthesize now; read the suite's last recorded wall time."""
    combinations, seconds = synth_seconds(env.workdir / "cdk.out")
    rows = [Row(6, f"synth all {combinations} stage x preset combinations, one process", "s", seconds, None)]
    suite_rows, suite_note = suite_wall_time(record)
    notes = (
        "The seed deploys with the starter toolkit and has no infrastructure code, so there is no "
        "baseline for this figure.",
        "Synth time includes importing aws_cdk and starting jsii's Node process once.",
        suite_note,
    )
    return FigureResult(
        6, "Infrastructure: synth time and test-suite wall time", tuple(rows + suite_rows), notes
    )
