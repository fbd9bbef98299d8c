"""Exit codes of ``python -m client``."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """0 completed, 1 failed/lost/cancelled (or the call failed), 2 bad usage, 3 timeout."""

    OK = 0
    FAILED = 1
    USAGE = 2
    TIMEOUT = 3
