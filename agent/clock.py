"""Where the engine reads the time: passed in, so life-cycle decisions can be tested without sleeps."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Wall time (stored in records) and monotonic time (for intervals within this process)."""

    def now(self) -> float:
        """Seconds since the epoch."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...


class SystemClock:
    """The machine's clocks."""

    def now(self) -> float:
        """``time.time()``."""
        return time.time()

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()
