"""``app.py`` as the CDK CLI runs it: bad context is one clear line and a failing exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.infra.synth import ROOT


def run_app(context: dict[str, str], outdir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps(context),
        "CDK_OUTDIR": str(outdir),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "18,20",
    }
    return subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_idle_longer_than_lifetime_stops_synth_with_one_line(tmp_path: Path) -> None:
    result = run_app({"stage": "prod", "idle_timeout": "7200", "max_lifetime": "3600"}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: invalid context idle_timeout=7200: idle_timeout (7200 s) must not exceed "
        "max_lifetime (3600 s) for preset long-running"
    ]
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.template.json"))


def test_a_vpc_stage_in_a_region_without_listed_zones_stops_synth_with_one_line(tmp_path: Path) -> None:
    result = run_app({"stage": "staging", "account": "123456789012", "region": "af-south-1"}, tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(
        "error: invalid context region='af-south-1': stage staging runs the runtime in a VPC"
    )
    assert "regions with supported IDs: us-east-1, us-east-2, us-west-1, us-west-2" in line
    assert not list(tmp_path.glob("*.template.json"))
