"""Capped exponential backoff with full jitter."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentcore_async.client.backoff import Backoff

pytestmark = pytest.mark.unit


def test_ceiling_doubles_then_caps() -> None:
    backoff = Backoff(base=0.5, cap=5.0)
    assert [backoff.ceiling(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]


def test_huge_attempt_numbers_stay_at_the_cap() -> None:
    assert Backoff(base=1.0, cap=30.0).ceiling(10_000) == 30.0


def test_negative_attempts_are_refused() -> None:
    with pytest.raises(ValueError, match="attempt"):
        Backoff().ceiling(-1)


@given(attempt=st.integers(min_value=0, max_value=200), seed=st.integers())
def test_delay_is_within_zero_and_the_ceiling(attempt: int, seed: int) -> None:
    backoff = Backoff(base=0.25, cap=20.0, rng=random.Random(seed))
    assert 0.0 <= backoff.delay(attempt) <= backoff.ceiling(attempt)


def test_jitter_spreads_delays() -> None:
    backoff = Backoff(base=1.0, cap=8.0, rng=random.Random(7))
    delays = [backoff.delay(3) for _ in range(200)]
    assert max(delays) > 6.0
    assert min(delays) < 2.0
