"""Rows, verdicts, targets and the RESULTS.md text."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from bench.report import RunInfo, fmt, print_table, render_markdown, verdict, worse_paragraph
from bench.results import FigureResult, Row, Target

pytestmark = pytest.mark.unit

INFO = RunInfo(
    date="2026-01-02 03:04 UTC",
    cores=2,
    python="3.11.7",
    platform="Linux aarch64",
    wall_seconds=321.0,
    scale="Figure 3 runs 30x faster than real time.",
)


def test_lower_is_better_gain_is_baseline_over_ours() -> None:
    row = Row(1, "start p99", "ms", ours=2.0, baseline=10.0)
    assert row.ratio == pytest.approx(0.2)
    assert row.gain == pytest.approx(5.0)
    assert not row.worse
    assert verdict(row) == "5x better"


def test_higher_is_better_gain_is_ours_over_baseline() -> None:
    row = Row(4, "tasks/s", "tasks/s", ours=3.0, baseline=12.0, better="higher")
    assert row.gain == pytest.approx(0.25)
    assert row.worse
    assert verdict(row) == "4x worse"


def test_within_ten_percent_is_the_same_not_worse() -> None:
    assert verdict(Row(2, "ping", "ms", ours=9.2, baseline=10.0)) == "same"
    row = Row(2, "ping", "ms", ours=10.8, baseline=10.0)
    assert not row.worse
    assert verdict(row) == "same"


def test_missing_baseline_has_no_verdict() -> None:
    row = Row(6, "synth", "s", ours=30.0, baseline=None)
    assert row.ratio is None and row.gain is None and not row.worse
    assert verdict(row) == "—"


def test_targets_check_ours_or_the_gain() -> None:
    absolute = Target("p99 <= 5 ms", 5.0, "max")
    gain = Target(">= 10x lower", 10.0, "min", on="gain")
    assert Row(1, "a", "ms", 4.9, 9.0, target=absolute).target_met is True
    assert Row(1, "a", "ms", 5.1, 9.0, target=absolute).target_met is False
    assert Row(3, "b", "s", 0.01, 0.2, target=gain).target_met is True  # 20x lower
    assert Row(3, "b", "s", 0.05, 0.2, target=gain).target_met is False  # 4x lower
    assert Row(3, "b", "s", 0.05, None, target=gain).target_met is None


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "—"), (0.0, "0.00"), (0.01234, "0.0123"), (1.234, "1.23"), (12.34, "12.3"), (12345.6, "12,346")],
)
def test_fmt_keeps_three_significant_figures(value: float | None, text: str) -> None:
    assert fmt(value) == text


def _figures() -> list[FigureResult]:
    worse = Row(1, "start p99, sequential", "ms", 8.0, 2.0, target=Target("p99 <= 5 ms", 5.0, "max"))
    better = Row(3, "notice latency p50", "s", 0.01, 1.0)
    unexplained = Row(5, "RSS idle", "MiB", 90.0, 60.0)
    return [
        FigureResult(1, "Start", (worse,), ("note one",), {"start p99, sequential": "ours writes first."}),
        FigureResult(3, "Notice", (better,)),
        FigureResult(4, "Throughput", (), skipped="RuntimeError: emulator did not start"),
        FigureResult(5, "Memory", (unexplained,)),
    ]


def test_markdown_has_machine_date_table_notes_and_the_honest_paragraph() -> None:
    text = render_markdown(_figures(), INFO)
    assert "**2 CPU cores**" in text and "2026-01-02 03:04 UTC" in text
    assert "Figure 3 runs 30x faster" in text
    assert "| 1 | start p99, sequential | 8.00 ms | 2.00 ms | 4 | 4x worse | p99 <= 5 ms (MISSED) |" in text
    assert "| 3 | notice latency p50 | 0.01 s | 1.00 s | 0.01 | 100x better |  |" in text
    assert "not measured (RuntimeError: emulator did not start)" in text
    assert "- note one" in text
    worse_section = text.split("## Where ours is worse", 1)[1].split("##", 1)[0]
    assert (
        "- Figure 1: **start p99, sequential**: ours 8.00 ms vs baseline 2.00 ms, 4x worse, "
        "target missed (p99 <= 5 ms). Cause: ours writes first." in worse_section
    )
    assert "- Figure 5: **RSS idle**: ours 90.0 MiB vs baseline 60.0 MiB, 1.5x worse. Cause: not known." in (
        worse_section
    )
    assert "notice latency" not in worse_section
    missed = text.split("## Targets missed", 1)[1]
    assert "start p99, sequential: 8.00 ms, target p99 <= 5 ms" in missed


def test_metrics_sharing_a_cause_are_listed_together_with_the_cause_once() -> None:
    rows = (Row(1, "a", "ms", 4.0, 2.0), Row(1, "b", "ms", 9.0, 3.0), Row(1, "c", "ms", 1.0, 1.0))
    figure = FigureResult(1, "Start", rows, causes={"a": "writes first.", "b": "writes first."})
    assert worse_paragraph([figure]) == (
        "- Figure 1: **a**: ours 4.00 ms vs baseline 2.00 ms, 2x worse; "
        "**b**: ours 9.00 ms vs baseline 3.00 ms, 3x worse. Cause: writes first."
    )


def test_missed_targets_mention_a_busy_machine() -> None:
    figures = [FigureResult(1, "x", (Row(1, "p99", "ms", 9.0, 9.0, target=Target("<= 5 ms", 5.0, "max")),))]
    busy = render_markdown(figures, RunInfo(**{**INFO.__dict__, "load_before": 6.0}))
    assert "load average of 6.0 on 2 cores: tail targets missed here reflect CPU contention" in busy
    assert "CPU contention" not in render_markdown(figures, INFO)


def test_worse_paragraph_says_so_when_ours_never_loses() -> None:
    figures = [FigureResult(2, "Ping", (Row(2, "ping p99", "ms", 1.0, 3.0),))]
    assert "not worse than the seed baseline, and met every target" in worse_paragraph(figures)


def test_markdown_cells_escape_pipes() -> None:
    figures = [FigureResult(1, "x", (Row(1, "a | b", "ms", 1.0, 1.0),))]
    assert "| a \\| b |" in render_markdown(figures, INFO)


def test_table_prints_every_row() -> None:
    out = io.StringIO()
    print_table(_figures(), Console(file=out, width=200))
    printed = out.getvalue()
    for metric in ("start p99, sequential", "notice latency p50", "RSS idle", "not measured"):
        assert metric in printed


def test_markdown_warns_when_the_machine_was_busy() -> None:
    quiet = render_markdown([], INFO)
    assert "load average was 0.0 when the run started." in quiet
    busy = render_markdown([], RunInfo(**{**INFO.__dict__, "load_before": 6.5}))
    assert "load average was 6.5 when the run started (other work shared the CPUs" in busy


def test_a_missed_target_is_explained_even_when_ours_beats_the_seed() -> None:
    target = Target("p99 <= 5 ms", 5.0, "max")
    row = Row(1, "start p99", "ms", ours=6.0, baseline=9.0, target=target)
    figure = FigureResult(1, "Start", (row,), (), {"start p99": "the writer waits for its commit"})
    text = worse_paragraph([figure])
    assert "**start p99**: ours 6.00 ms vs baseline 9.00 ms" in text
    assert "target missed (p99 <= 5 ms). Cause: the writer waits for its commit" in text
