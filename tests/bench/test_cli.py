"""``python -m bench`` arguments: a partial or quick run never overwrites the committed RESULTS.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.__main__ import BENCH_DIR, parse_args

pytestmark = pytest.mark.unit


def test_a_full_run_writes_results_md() -> None:
    args = parse_args([])
    assert args.wanted == set(range(1, 11))
    assert args.out == BENCH_DIR / "RESULTS.md"


@pytest.mark.parametrize("argv", [["--figures", "1,3"], ["--quick"]])
def test_partial_and_quick_runs_write_under_the_ignored_work_dir(argv: list[str]) -> None:
    assert parse_args(argv).out == BENCH_DIR / ".work" / "RESULTS-partial.md"


def test_an_explicit_out_wins(tmp_path: Path) -> None:
    assert parse_args(["--figures", "6", "--out", str(tmp_path / "r.md")]).out == tmp_path / "r.md"


@pytest.mark.parametrize("figures", ["11", "x", "", "1,,11"])
def test_unknown_figures_are_a_usage_error(figures: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--figures", figures])
    assert exit_info.value.code == 2
    assert "--figures" in capsys.readouterr().err
