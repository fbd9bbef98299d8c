"""An emulator with real agent processes for the client's end-to-end tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.emulator.harness import RunningEmulator, running_emulator


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    """Long idle timer, quick pings, shared store, scripted model."""
    flags = ("--idle-timeout", "60", "--max-lifetime", "600", "--ping-interval", "0.3")
    # The agent's prompt path runs offline with the agent suite's scripted model.
    with running_emulator(
        *flags, env={"AGENT_MODEL_FACTORY": "tests.agent.scripted_model:create"}
    ) as running:
        yield running


@pytest.fixture
def session_id() -> str:
    """A fresh valid session id."""
    return f"client-{uuid.uuid4().hex}"
