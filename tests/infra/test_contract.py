"""One contract for every part: the stacks, the emulator and the client share it without the agent."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from agentcore_async import contract

REPO = Path(__file__).resolve().parents[2]


def _modules_loaded_by(module: str) -> set[str]:
    # -S: without site-packages' start-up hooks, only what the import itself loads.
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-S", "-c", code]
        if module == "agentcore_async.contract"
        else [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return {name.split(".")[0] for name in json.loads(result.stdout.splitlines()[-1])}


def test_the_contract_uses_the_standard_library_only() -> None:
    loaded = _modules_loaded_by("agentcore_async.contract")
    allowed = set(sys.stdlib_module_names) | {"agentcore_async", "__main__"}
    assert loaded <= allowed, loaded - allowed


def test_the_stacks_need_neither_the_agent_nor_pydantic() -> None:
    loaded = _modules_loaded_by("stacks.assembly")
    assert not loaded & {"agent", "pydantic", "pydantic_settings"}, loaded & {"agent", "pydantic"}


def test_the_emulator_takes_its_presets_from_the_contract() -> None:
    from emulator.cli import PRESETS  # noqa: PLC0415

    assert set(PRESETS) == set(contract.PRESETS)
    for name, preset in contract.PRESETS.items():
        assert (PRESETS[name].idle_timeout, PRESETS[name].max_lifetime) == (
            preset.idle_timeout_seconds,
            preset.max_lifetime_seconds,
        )
