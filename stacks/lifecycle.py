"""AgentCore lifecycle presets: how long a session's microVM may idle and live."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

PresetName = Literal["interactive", "long-running", "development"]
PRESET_NAMES: Final[tuple[PresetName, ...]] = get_args(PresetName)

MIN_SECONDS: Final = 60
"""Lowest value AgentCore accepts for either timer."""
MAX_SECONDS: Final = 28800
"""Highest value AgentCore accepts for either timer (8 hours)."""


@dataclass(frozen=True)
class Lifecycle:
    """The two microVM timers set on the runtime's ``LifecycleConfiguration``."""

    preset: PresetName
    idle_timeout_seconds: int
    max_lifetime_seconds: int


PRESETS: Final[dict[PresetName, Lifecycle]] = {
    "interactive": Lifecycle("interactive", idle_timeout_seconds=900, max_lifetime_seconds=14400),
    "long-running": Lifecycle("long-running", idle_timeout_seconds=1800, max_lifetime_seconds=28800),
    "development": Lifecycle("development", idle_timeout_seconds=300, max_lifetime_seconds=1800),
}
