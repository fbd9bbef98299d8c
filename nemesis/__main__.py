"""``python -m nemesis [--seed N] [--seconds S] [--store sqlite|dynamodb|redis]``."""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from pathlib import Path

from nemesis.run import run


def main(argv: Sequence[str] | None = None) -> int:
    """Run, print each violation and the summary line; 0 only when nothing was violated."""
    parser = argparse.ArgumentParser(prog="python -m nemesis", description=__doc__)
    parser.add_argument("--seed", type=int, help="the fault schedule's seed (default: a random one)")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of faults (default 60)")
    parser.add_argument("--store", choices=["sqlite", "dynamodb", "redis"], default="sqlite")
    parser.add_argument("--keep", type=Path, help="keep the run's files (logs, history.jsonl) here")
    parser.add_argument(
        "--agent-module", default="agent", help="what each microVM runs (python -m; default: agent)"
    )
    args = parser.parse_args(argv)
    if args.seconds <= 0:
        parser.error("--seconds must be above 0")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 31)
    print(f"nemesis: seed {seed}, {args.seconds:g} s of faults on {args.store}", flush=True)
    try:
        outcome = run(seed, args.seconds, args.store, keep=args.keep, agent_module=args.agent_module)
    except KeyboardInterrupt:
        print(f"nemesis: seed {seed} interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a service that would not start: one line, never a traceback
        print(f"nemesis: seed {seed} could not run: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    for violation in outcome.violations:
        print(violation.report(seed), flush=True)
    if outcome.violations:
        print(f"nemesis: the run's files (history.jsonl, agent logs) are in {outcome.workdir}")
    print(outcome.summary(), flush=True)
    return 0 if not outcome.violations else 1


if __name__ == "__main__":
    sys.exit(main())
