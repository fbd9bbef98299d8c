"""Synthesize every stage x lifecycle preset in this one process and print the timing as JSON.

Run by figure 6 as ``python -m bench.synth_all OUTDIR`` so jsii's Node process and the CDK
imports are charged to this process, not to the benchmark driver.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from aws_cdk import App

from agentcore_async.contract import PRESET_NAMES
from stacks.assembly import build
from stacks.stages import STAGE_NAMES

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def feature_flags() -> dict[str, object]:
    """The context of ``cdk.json`` (feature flags), which the CDK CLI would pass to ``app.py``."""
    context = json.loads((PROJECT_ROOT / "cdk.json").read_text()).get("context", {})
    return dict(context) if isinstance(context, dict) else {}


def main() -> None:
    """Time the imports-included synthesis of all combinations into OUTDIR/<stage>-<preset>."""
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m bench.synth_all OUTDIR")
    outdir = Path(sys.argv[1])
    timings: dict[str, float] = {}
    flags = feature_flags()
    started = time.perf_counter()
    for stage in STAGE_NAMES:
        for preset in PRESET_NAMES:
            one = time.perf_counter()
            context = {**flags, "stage": stage, "lifecycle": preset}
            app = App(context=context, outdir=str(outdir / f"{stage}-{preset}"))
            build(app)
            app.synth()
            timings[f"{stage}/{preset}"] = time.perf_counter() - one
    total = time.perf_counter() - started
    print(json.dumps({"combinations": len(timings), "seconds": total, "each": timings}))


if __name__ == "__main__":
    main()
