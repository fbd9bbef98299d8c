"""An asyncio event loop on a virtual clock: whenever nothing is ready, time jumps to the next timer.

A kind that sleeps an hour between checkpoints runs its hour at once under :func:`run_kind`, and
``remaining_seconds`` counts down on the same clock. Waiting for real I/O or a thread with no timer
pending still blocks for real.
"""

from __future__ import annotations

import asyncio
import selectors
from typing import Any


class VirtualClock:
    """Seconds since the run began, advanced only by the loop (or by :meth:`advance`)."""

    def __init__(self) -> None:
        self.now = 0.0

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += max(0.0, seconds)


class _JumpingSelector(selectors.DefaultSelector):
    """Polls for I/O without waiting; a wait with a deadline becomes a jump of the clock."""

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__()
        self._clock = clock

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready or timeout is None:
            return ready or super().select(None)
        self._clock.advance(timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """``loop.time()`` is :attr:`clock`'s; ``asyncio.sleep(3600)`` returns at once, an hour later."""

    def __init__(self, clock: VirtualClock | None = None) -> None:
        self.clock = clock or VirtualClock()
        super().__init__(_JumpingSelector(self.clock))

    def time(self) -> float:
        """The virtual time."""
        return self.clock.now

    def run(self, work: Any) -> Any:
        """Run ``work`` (a coroutine) to completion on this loop, then close it."""
        try:
            return self.run_until_complete(work)
        finally:
            self.run_until_complete(self.shutdown_asyncgens())
            self.close()
