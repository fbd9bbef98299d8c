"""``python -m bench.timed RECORD -- COMMAND...``: run COMMAND and record its wall time as JSON.

``make test`` runs the suite through this so figure 6 can report the suite's last wall time.
The exit status is COMMAND's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class WallTime:
    """One recorded run of a command."""

    command: str
    seconds: float
    exit_code: int
    finished_at: str


def record(path: Path, wall: WallTime) -> None:
    """Write ``wall`` to ``path`` (creating its directory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(wall)) + "\n")


def load(path: Path) -> WallTime | None:
    """The recorded run, or None when nothing (valid) was recorded."""
    try:
        data = json.loads(path.read_text())
        return WallTime(
            command=str(data["command"]),
            seconds=float(data["seconds"]),
            exit_code=int(data["exit_code"]),
            finished_at=str(data["finished_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def main(argv: list[str]) -> int:
    """Run the command after ``--`` and record it in the file named before it."""
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m bench.timed RECORD -- COMMAND...", file=sys.stderr)
        return 2
    started = time.monotonic()
    code = subprocess.call(argv[2:])
    wall = WallTime(
        command=" ".join(argv[2:]),
        seconds=time.monotonic() - started,
        exit_code=code,
        finished_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
    record(Path(argv[0]), wall)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
