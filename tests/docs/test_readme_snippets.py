"""Every shell block of the README runs exactly as written (or says why it cannot), so the README
cannot drift from the code: the quick start reaches a finished task, the client commands and the
library example work against the emulator, the curl example is accepted, and every `make` line
names a real target.

The blocks run in a directory that looks like the checkout (its entries are links to this one's,
so files the commands write stay out of the checkout) and in a network namespace of their own, so
the ports the README names (8090, 8080) are free whatever else runs on the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest

from tests.docs.readme import snippets

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
LEFT_OUT: Final = {".git", ".local", "cdk.out", ".agentcore-session.json", ".agentcore-session.json.lock"}
VENV_OVERRIDE: Final = "README_SNIPPETS_VENV"
"""A venv to stand in for the checkout's ``.venv`` (one with the client's script installed)."""


def checkout_like(workdir: Path) -> None:
    """Links to the checkout's entries (``.venv`` and ``node_modules`` included), minus state."""
    for entry in REPO_ROOT.iterdir():
        if entry.name not in LEFT_OUT:
            (workdir / entry.name).symlink_to(entry)
    venv = os.environ.get(VENV_OVERRIDE)
    if venv:
        (workdir / ".venv").unlink()
        (workdir / ".venv").symlink_to(Path(venv).resolve())


def in_own_network(argv: list[str]) -> list[str]:
    """``argv`` in a new network namespace (as root; otherwise in a user namespace too)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.fail("the README snippet test needs unshare (util-linux) for a private network namespace")
    return [unshare, "--net", *([] if os.geteuid() == 0 else ["--map-root-user"]), *argv]


def snippet_env(workdir: Path) -> dict[str, str]:
    """The caller's environment without any agent, client or store settings of its own."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AGENT_", "AGENTCORE_")) and key != VENV_OVERRIDE
    }
    env["PYTHONPATH"] = str(workdir)  # this checkout's client, whichever checkout .venv was built from
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def test_the_readme_marks_every_block_it_does_not_run() -> None:
    found = snippets(REPO_ROOT / "README.md")
    skipped = [snippet for snippet in found if snippet.mode == "not-run"]
    assert all("(" in snippet.note and snippet.note.endswith(")") for snippet in skipped), skipped
    run = [snippet for snippet in found if snippet.mode in ("run", "server", "python")]
    assert len(run) >= 5, "the quick start, the agent, the client and its library example run"


@pytest.mark.slow
def test_every_offline_readme_snippet_runs_as_written(tmp_path: Path) -> None:
    workdir = tmp_path / "checkout"
    workdir.mkdir()
    checkout_like(workdir)
    report = tmp_path / "report.json"
    command = in_own_network([sys.executable, "-m", "tests.docs.readme_session", str(workdir), str(report)])
    done = subprocess.run(
        command,
        cwd=REPO_ROOT,
        env=snippet_env(workdir),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0 and report.exists(), f"the session failed:\n{done.stdout}\n{done.stderr}"
    outcomes = json.loads(report.read_text())
    failed = [f"{o['name']} ({o['mode']}): {o['detail']}" for o in outcomes if not o["ok"]]
    assert not failed, "\n\n".join(failed)
    ran = {o["mode"] for o in outcomes}
    assert {"run", "server", "python", "dry-run", "not-run"} <= ran
    assert len(outcomes) == len(snippets(REPO_ROOT / "README.md"))
