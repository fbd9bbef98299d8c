"""Run a server module with pure-Python CPU work spinning in its own process.

``python -m bench.cpu_load MODULE`` starts ``BENCH_CPU_THREADS`` threads that each spin for
``BENCH_CPU_SECONDS`` once ``BENCH_CPU_START`` exists (a file the harness creates when it is
ready to measure), then runs ``MODULE`` as ``__main__``. Neither agent's payload API has a
CPU-bound work kind (the demo work sleeps), so this is how the /ping figure puts CPU-bound tasks
inside the same interpreter, where they compete for the GIL with the event loop serving /ping.
"""

from __future__ import annotations

import os
import runpy
import sys
import threading
import time
from pathlib import Path

THREADS_ENV = "BENCH_CPU_THREADS"
SECONDS_ENV = "BENCH_CPU_SECONDS"
START_FILE_ENV = "BENCH_CPU_START"
START_WAIT_SECONDS = 300.0


def spin(seconds: float) -> int:
    """Pure-Python arithmetic for ``seconds``; returns a checksum so the work is not optimised away."""
    deadline = time.monotonic() + seconds
    total = 0
    while time.monotonic() < deadline:
        for i in range(5_000):
            total = (total + i * i) % 1_000_003
    return total


def _worker(start_file: Path, seconds: float) -> None:
    deadline = time.monotonic() + START_WAIT_SECONDS
    while not start_file.exists():
        if time.monotonic() > deadline:
            return
        time.sleep(0.02)
    spin(seconds)


def main() -> None:
    """Start the CPU threads (daemon: they never keep the server alive), then the server."""
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m bench.cpu_load MODULE")
    threads = int(os.environ.get(THREADS_ENV, "0"))
    seconds = float(os.environ.get(SECONDS_ENV, "5"))
    start_file = Path(os.environ.get(START_FILE_ENV, "cpu-start"))
    for _ in range(threads):
        threading.Thread(target=_worker, args=(start_file, seconds), daemon=True).start()
    module = sys.argv[1]
    sys.argv = [module]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
