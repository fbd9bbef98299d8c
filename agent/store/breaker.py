"""A circuit breaker as a pure decision: whether to try an optional dependency now, given how
it answered lately. Time is passed in, so it is tested with a fake clock."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Breaker:
    """Opens after ``threshold`` failures in a row and skips calls for ``cooldown_seconds``; then
    lets calls through again, reopening at the first failure until one succeeds."""

    threshold: int = 3
    cooldown_seconds: float = 5.0
    failures: int = 0
    open_until: float = 0.0

    def allows(self, now: float) -> bool:
        """Whether a call may be tried at ``now``."""
        return now >= self.open_until

    def succeeded(self) -> None:
        """A call answered: close."""
        self.failures = 0
        self.open_until = 0.0

    def failed(self, now: float) -> None:
        """A call failed or ran out of time at ``now``."""
        self.failures += 1
        if self.failures >= self.threshold:
            self.open_until = now + self.cooldown_seconds
            self.failures = self.threshold - 1  # after the cooldown, one more failure reopens it
