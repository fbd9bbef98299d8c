"""The rows a benchmark run produces: one measured figure, ours beside the baseline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bench.stats import ratio

Better = Literal["lower", "higher"]
SAME_WITHIN = 0.10
"""Gains within 10 % either way count as "same": run-to-run noise on a shared machine is that large."""


@dataclass(frozen=True)
class Target:
    """A goal from the issue, checked against ours (``on="ours"``) or our gain (``on="gain"``).

    The gain is how many times better ours is than the baseline: baseline/ours when lower is
    better, ours/baseline when higher is better.
    """

    text: str
    bound: float
    kind: Literal["max", "min"]
    on: Literal["ours", "gain"] = "ours"

    def met(self, row: Row) -> bool | None:
        """Whether the row meets this target; None when the value is missing."""
        value = row.ours if self.on == "ours" else row.gain
        if value is None:
            return None
        return value <= self.bound if self.kind == "max" else value >= self.bound


@dataclass(frozen=True)
class Row:
    """One metric of one figure."""

    figure: int
    metric: str
    unit: str
    ours: float | None
    baseline: float | None
    better: Better = "lower"
    target: Target | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """ours / baseline."""
        return ratio(self.ours, self.baseline)

    @property
    def gain(self) -> float | None:
        """How many times better ours is (>1 better, <1 worse)."""
        value = self.ratio
        if value is None:
            return None
        if self.better == "higher":
            return value
        return None if value == 0 else 1.0 / value

    @property
    def worse(self) -> bool:
        """True when ours is worse than the baseline by more than :data:`SAME_WITHIN`."""
        gain = self.gain
        return gain is not None and gain < 1.0 - SAME_WITHIN

    @property
    def target_met(self) -> bool | None:
        """Whether the target is met; None without a target or a value."""
        return None if self.target is None else self.target.met(self)


@dataclass(frozen=True)
class FigureResult:
    """All rows of one figure plus what the reader needs to interpret them."""

    number: int
    title: str
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()
    causes: dict[str, str] = field(default_factory=dict)
    """Known cause per metric name, shown when ours is worse on that metric."""
    skipped: str = ""
    """Why the figure could not be measured, when it could not."""
