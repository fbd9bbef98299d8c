"""cfn-lint and checkov over every synthesized template; each accepted checkov finding has a reason."""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any, Final

import pytest

from tests.hardening.iam import MIN_REASON_CHARS, readable_id
from tests.hardening.templates import Template
from tests.support.agent_process import REPO_ROOT

SKIPS_FILE: Final = Path(__file__).with_name("checkov_skips.toml")
CHECKOV: Final = Path(
    os.environ.get("CHECKOV", REPO_ROOT / ".venv" / "tools" / "checkov" / "bin" / "checkov")
)
"""Installed by ``make bootstrap`` into its own venv (its pins clash with the project's boto3)."""


def _entries() -> list[tuple[str, set[str], str]]:
    """(check, resources, reason) of every entry; a check may have several, one reason each."""
    data = tomllib.loads(SKIPS_FILE.read_text())
    return [(e["check"], set(e["resources"]), " ".join(e["reason"].split())) for e in data["skip"]]


def _skips() -> dict[str, tuple[set[str], str]]:
    """Per check: the resources all its entries accept, and their reasons."""
    merged: dict[str, tuple[set[str], str]] = {}
    for check, resources, reason in _entries():
        known, reasons = merged.get(check, (set(), ""))
        merged[check] = (known | resources, f"{reasons} {reason}".strip())
    return merged


def _checkov(paths: list[Path]) -> list[dict[str, Any]]:
    if not CHECKOV.exists():
        pytest.fail(f"checkov is not installed at {CHECKOV}; run `make bootstrap`")
    files = [arg for path in paths for arg in ("--file", str(path))]
    completed = subprocess.run(
        # --skip-download: never contact the vendor's platform (tests stay on loopback).
        [str(CHECKOV), *files, "--framework", "cloudformation", "--skip-download", "--quiet", "--compact",
         "--output", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )  # fmt: skip
    assert completed.returncode in (0, 1), completed.stderr[-3000:]
    report = json.loads(completed.stdout)
    reports = report if isinstance(report, list) else [report]
    summary = reports[0]["summary"]
    assert summary["parsing_errors"] == 0, summary
    assert summary["resource_count"] > 0, summary
    return [failed for r in reports for failed in r["results"]["failed_checks"]]


def test_every_checkov_skip_gives_a_reason() -> None:
    for check, resources, reason in _entries():
        assert resources, check
        assert len(reason) >= MIN_REASON_CHARS, check


def test_checkov_finds_nothing_beyond_the_reasoned_skips(
    templates: list[Template], variant_templates: list[Template]
) -> None:
    skips = _skips()
    failed = _checkov([template.path for template in [*templates, *variant_templates]])
    used: dict[str, set[str]] = defaultdict(set)
    unexplained: list[str] = []
    for finding in failed:
        check = finding["check_id"]
        resource = readable_id(finding["resource"].split(".", 1)[-1])
        if check in skips and resource in skips[check][0]:
            used[check].add(resource)
        else:
            where = Path(finding["file_path"]).name
            unexplained.append(f"{check} {finding['check_name']}: {where} {finding['resource']}")
    assert not unexplained, "checkov findings without a reasoned skip:\n" + "\n".join(
        sorted(set(unexplained))
    )
    stale = {
        check: resources - used[check] for check, (resources, _) in skips.items() if resources - used[check]
    }
    assert not stale, f"skips that match no finding any more (remove them): {stale}"
