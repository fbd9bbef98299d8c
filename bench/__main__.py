"""``python -m bench``: run every figure, print the table, write ``bench/RESULTS.md``."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from bench.config import BILLING_SCALE, NOTICE_SCALE, BenchConfig, default_config
from bench.environment import Environment, environment
from bench.figures import (
    billing,
    concurrent_dynamodb,
    infra,
    notice,
    outlive,
    ping_memory,
    resume_cost,
    start_latency,
    throughput,
)
from bench.report import RunInfo, print_table, render_markdown
from bench.results import FigureResult

BENCH_DIR = Path(__file__).resolve().parent
FigureRunner = Callable[[Environment, BenchConfig], Sequence[FigureResult]]
TITLES = {
    1: "start_background_task response time",
    2: "/ping latency while tasks run",
    3: "Completion notice: long-poll wait() vs fixed-interval polling",
    4: "Tasks completed per second through the emulator",
    5: "Memory",
    6: "Infrastructure: synth time and test-suite wall time",
    7: "A task three times the max lifetime",
    8: "Billed microVM-seconds per completed task",
    9: concurrent_dynamodb.TITLE,
    10: resume_cost.TITLE,
}
RUNNERS: dict[tuple[int, ...], FigureRunner] = {
    (1,): lambda env, config: [start_latency.run(env, config)],
    (2, 5): lambda env, config: list(ping_memory.run(env, config)),
    (3,): lambda env, config: [notice.run(env, config)],
    (4,): lambda env, config: [throughput.run(env, config)],
    (6,): lambda env, config: [infra.run(env, config)],
    (7,): lambda env, config: [outlive.run(env, config)],
    (8,): lambda env, config: [billing.run(env, config)],
    (9,): lambda env, config: [concurrent_dynamodb.run(env, config)],
    (10,): lambda env, config: [resume_cost.run(env, config)],
}


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse the command line; a partial or quick run defaults to a report under bench/.work/."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--figures", default=",".join(map(str, TITLES)), help="comma-separated figure numbers"
    )
    parser.add_argument("--quick", action="store_true", help="tiny counts (harness check only)")
    parser.add_argument(
        "--out", type=Path, help="report path (default: bench/RESULTS.md, or bench/.work/ for partial runs)"
    )
    parser.add_argument("--workdir", type=Path, default=BENCH_DIR / ".work" / "run", help="scratch directory")
    args = parser.parse_args(argv)
    try:
        args.wanted = {int(n) for n in args.figures.split(",") if n.strip()}
    except ValueError:
        parser.error(f"--figures takes comma-separated numbers, got {args.figures!r}")
    unknown = args.wanted - set(TITLES)
    if unknown or not args.wanted:
        parser.error(f"--figures must name some of {sorted(TITLES)}, got {args.figures!r}")
    if args.out is None:
        full = args.wanted == set(TITLES) and not args.quick
        args.out = BENCH_DIR / "RESULTS.md" if full else BENCH_DIR / ".work" / "RESULTS-partial.md"
    return args


def run_figures(wanted: set[int], config: BenchConfig, workdir: Path, console: Console) -> list[FigureResult]:
    """Run the wanted figures; a figure that fails is reported as not measured, the rest still run."""
    results: list[FigureResult] = []
    with environment(workdir) as env:
        for numbers, runner in RUNNERS.items():
            if not wanted.intersection(numbers):
                continue
            console.log(f"figure {', '.join(map(str, numbers))}: running")
            started = time.monotonic()
            try:
                produced = list(runner(env, config))
            except Exception as exc:
                traceback.print_exc(file=sys.stderr)
                reason = f"{type(exc).__name__}: {str(exc)[:200]}"
                produced = [FigureResult(n, TITLES[n], (), skipped=reason) for n in numbers]
            console.log(f"figure {', '.join(map(str, numbers))}: {time.monotonic() - started:.0f} s")
            results.extend(f for f in produced if f.number in wanted)
    return sorted(results, key=lambda f: f.number)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; exit status 1 when any figure could not be measured."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    wanted: set[int] = args.wanted
    config = default_config()
    if args.quick:
        config = config.quick()
    console = Console() if sys.stdout.isatty() else Console(width=160)
    shutil.rmtree(args.workdir, ignore_errors=True)
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    figures = run_figures(wanted, config, args.workdir, console)
    info = RunInfo(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        cores=config.cores,
        python=platform.python_version(),
        platform=f"{platform.system()} {platform.machine()}",
        wall_seconds=time.monotonic() - started,
        load_before=load_before,
        scale=(
            f"Figure 3 runs {NOTICE_SCALE}x faster than real time: the seed's 600 s task polled every "
            f"60 s is a {config.notice_task_seconds:g} s task polled every {config.seed_poll_seconds:g} s "
            f"here, and our 60 s long-poll a {config.long_poll_seconds} s one. Figure 4 uses "
            f"{config.throughput_task_seconds:g} s tasks; figure 8 runs {BILLING_SCALE}x faster than "
            "real time (task, poll interval and idle timeouts); the other figures use short real tasks."
            + (" QUICK RUN: counts are tiny, the numbers are not meaningful." if args.quick else "")
        ),
    )
    print_table(figures, console)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render_markdown(figures, info))
    console.print(f"wrote {args.out} in {info.wall_seconds:.0f} s")
    return 1 if any(f.skipped for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
