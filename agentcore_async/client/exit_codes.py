"""Exit codes of ``python -m agentcore_async.client``."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """0 completed, 1 failed/lost/cancelled (or the call failed), 2 bad usage, 3 timeout,
    130 interrupted (Ctrl-C, as shells report SIGINT)."""

    OK = 0
    FAILED = 1
    USAGE = 2
    TIMEOUT = 3
    INTERRUPTED = 130
