"""``python -m bench.timed``: the wall-time record ``make test`` leaves for figure 6."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench.figures.infra import suite_wall_time
from bench.timed import WallTime, load, main, record

pytestmark = pytest.mark.unit


def test_runs_the_command_records_its_time_and_passes_its_exit_code(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "wall.json"
    code = main([str(out), "--", sys.executable, "-c", "import time, sys; time.sleep(0.2); sys.exit(3)"])
    assert code == 3
    wall = load(out)
    assert wall is not None
    assert wall.exit_code == 3
    assert wall.seconds >= 0.2
    assert wall.command.endswith("sys.exit(3)")
    assert wall.finished_at.endswith("UTC")


def test_usage_error_without_separator(tmp_path: Path) -> None:
    assert main([str(tmp_path / "w.json"), sys.executable]) == 2
    assert not (tmp_path / "w.json").exists()


def test_missing_or_corrupt_record_reads_as_not_recorded(tmp_path: Path) -> None:
    assert load(tmp_path / "absent.json") is None
    bad = tmp_path / "bad.json"
    bad.write_text('{"seconds": "soon"}')
    assert load(bad) is None


def test_record_round_trips(tmp_path: Path) -> None:
    wall = WallTime(command="pytest", seconds=12.5, exit_code=0, finished_at="2026-01-01 00:00 UTC")
    record(tmp_path / "w.json", wall)
    assert load(tmp_path / "w.json") == wall


def test_figure_six_reports_the_last_run_or_not_recorded(tmp_path: Path) -> None:
    rows, note = suite_wall_time(tmp_path / "absent.json")
    assert rows == [] and "not recorded" in note
    record(tmp_path / "w.json", WallTime("pytest", 42.0, 1, "2026-01-01 00:00 UTC"))
    rows, note = suite_wall_time(tmp_path / "w.json")
    assert [row.ours for row in rows] == [42.0]
    assert (
        note == "Test suite wall time: last recorded 2026-01-01 00:00 UTC; that run failed with exit code 1."
    )
