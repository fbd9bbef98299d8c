"""Capped exponential backoff with full jitter between polls."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class Backoff:
    """Delay before retry ``attempt`` (0-based): uniform in [0, min(cap, base * 2**attempt)]."""

    base: float = 0.5
    cap: float = 20.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def ceiling(self, attempt: int) -> float:
        """The largest delay for ``attempt``: exponential growth, capped."""
        if attempt < 0:
            raise ValueError("attempt must be >= 0")
        # Cap the exponent too, so huge attempt numbers cannot overflow.
        return float(min(self.cap, self.base * 2.0 ** min(attempt, 62)))

    def delay(self, attempt: int) -> float:
        """A random delay for ``attempt`` (full jitter spreads many clients apart)."""
        return self.rng.uniform(0.0, self.ceiling(attempt))
