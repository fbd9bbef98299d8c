"""The statistics behind every figure: percentiles, medians, ratios."""

from __future__ import annotations

import pytest

from bench.stats import Summary, median, percentile, ratio

pytestmark = pytest.mark.unit


def test_percentile_interpolates_between_closest_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]  # order must not matter
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == pytest.approx(2.5)
    assert percentile(values, 25) == pytest.approx(1.75)


def test_p99_of_one_to_hundred_sits_just_below_the_maximum() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 99) == pytest.approx(99.01)
    assert median(values) == pytest.approx(50.5)


def test_one_slow_sample_in_a_hundred_shows_in_p99_not_in_the_median() -> None:
    values = [1.0] * 99 + [500.0]
    summary = Summary.of(values)
    assert summary.p50 == 1.0
    assert summary.p99 == pytest.approx(1.0 + 0.01 * 499.0)
    assert summary.maximum == 500.0
    assert summary.count == 100


def test_a_single_sample_is_every_percentile() -> None:
    assert percentile([7.0], 1) == percentile([7.0], 99) == 7.0


@pytest.mark.parametrize("q", [-1.0, 100.5])
def test_percentile_rejects_out_of_range(q: float) -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.100"):
        percentile([1.0], q)


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 50)


def test_ratio_is_ours_over_baseline_and_none_when_undefined() -> None:
    assert ratio(2.0, 8.0) == pytest.approx(0.25)
    assert ratio(None, 1.0) is None
    assert ratio(1.0, None) is None
    assert ratio(1.0, 0.0) is None
