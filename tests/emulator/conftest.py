"""Emulators shared by the tests of one module (each module picks its timers)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.emulator.harness import RunningEmulator, running_emulator

STANDARD_FLAGS = (
    "--idle-timeout", "60", "--max-lifetime", "600",
    "--ping-interval", "0.3", "--ping-timeout", "0.5", "--unhealthy-after", "3",
)  # fmt: skip


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    """An emulator with long timers and quick health checks, and a shared store."""
    with running_emulator(*STANDARD_FLAGS) as running:
        yield running


@pytest.fixture
def session_id() -> str:
    """A fresh valid session id (40 characters)."""
    return f"test-{uuid.uuid4().hex}-ab"
