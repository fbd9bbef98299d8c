"""Fixtures of the hardening suite: agents and emulators with small caps, and private servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.emulator.harness import RunningEmulator, running_emulator
from tests.hardening.bad_inputs import LIFETIME_SECONDS, PAYLOAD_CAP
from tests.hardening.templates import Template, stage_templates, variant_runtime_templates
from tests.support.agent_process import FAST_TIMERS, AgentProcess, running_agent

if TYPE_CHECKING:
    from tests.infra.synth import AllSynths, VariantSynths

CAPPED_ENV = {
    **FAST_TIMERS,
    "AGENT_MAX_PAYLOAD_BYTES": str(PAYLOAD_CAP),
    "AGENT_MAX_LIFETIME_SECONDS": str(LIFETIME_SECONDS),
    "AGENT_LOG_LEVEL": "WARNING",
}
"""Agent settings for hostile-input tests: a 4 KiB payload cap and a 600 s lifetime."""


@pytest.fixture(scope="module")
def capped_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProcess]:
    """One agent on SQLite with the small caps, shared by a module."""
    path = tmp_path_factory.mktemp("hardening-agent") / "tasks.sqlite3"
    with running_agent({**CAPPED_ENV, "AGENT_SQLITE_PATH": str(path)}) as agent:
        yield agent


@pytest.fixture(scope="module")
def capped_emulator() -> Iterator[RunningEmulator]:
    """An emulator whose agents have the small caps (timers within AgentCore's range)."""
    flags = ("--idle-timeout", "60", "--max-lifetime", str(LIFETIME_SECONDS), "--ping-interval", "0.5")
    with running_emulator(*flags, env=CAPPED_ENV) as emulator:
        yield emulator


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    """A per-test SQLite file."""
    return tmp_path / "tasks.sqlite3"


@pytest.fixture(scope="session")
def templates(synthesized: AllSynths) -> list[Template]:
    """Every stack of every stage, from the session's one synthesis (shared with the infra tests)."""
    return stage_templates(synthesized)


@pytest.fixture(scope="session")
def variant_templates(synthesized_variants: VariantSynths) -> list[Template]:
    """The Runtime stack of each feature variant (``-c auth=jwt``, ``-c endpoint=live``, the example)."""
    return variant_runtime_templates(synthesized_variants)


@pytest.fixture(scope="session")
def example_template(synthesized_variants: VariantSynths) -> Template:
    """The Runtime stack of ``-c example_state_machine=true``."""
    return variant_runtime_templates({"example": synthesized_variants["example"]})[0]
