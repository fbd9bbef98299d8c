"""dynalite: a DynamoDB stand-in that serves requests concurrently (moto serves one at a time).

Pinned in package.json and installed by ``npm ci``; in memory, on loopback, one per figure.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.environment import AWS_ENV, Environment, create_task_table
from bench.processes import PROJECT_ROOT, running

DYNALITE = PROJECT_ROOT / "node_modules" / ".bin" / "dynalite"
# Tables are usable at once instead of after dynalite's default half-second "CREATING".
INSTANT_TABLES = ("--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")


@contextmanager
def dynalite(workdir: Path) -> Iterator[Environment]:
    """An environment whose DynamoDB is a fresh dynalite holding the task table."""
    if not DYNALITE.exists():
        raise FileNotFoundError(f"{DYNALITE} is missing: run `npm ci` (make bootstrap)")
    command = [str(DYNALITE), "--port", "{port}", *INSTANT_TABLES]
    with running("dynalite", command, env=AWS_ENV, workdir=workdir, ready_path="/") as server:
        create_task_table(server.url)
        yield Environment(workdir=workdir, moto_url=server.url)
