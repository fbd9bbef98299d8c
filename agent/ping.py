"""Ping status that changes its timestamp only when the status itself changes.

The SDK re-evaluates the status lazily on each /ping and stamps the first ping
of a process as a change; here every transition is stamped when it happens.
"""

from __future__ import annotations

import threading
import time

from bedrock_agentcore.runtime.models import PingStatus


class PingState:
    """Counts running work; reports Healthy/HealthyBusy and when that last changed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy = 0
        self._changed_at = time.time()

    def enter(self) -> None:
        """One more piece of work is running."""
        with self._lock:
            self._busy += 1
            if self._busy == 1:
                self._changed_at = time.time()

    def leave(self) -> None:
        """One piece of work ended."""
        with self._lock:
            if self._busy == 0:
                return
            self._busy -= 1
            if self._busy == 0:
                self._changed_at = time.time()

    def snapshot(self) -> tuple[PingStatus, int]:
        """Current status and the unix second of its last change."""
        with self._lock:
            status = PingStatus.HEALTHY_BUSY if self._busy else PingStatus.HEALTHY
            return status, int(self._changed_at)
