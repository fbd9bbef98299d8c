"""``relay``: the built-in ``sleep`` (resumable, checkpointing the seconds done) under a name only
agents that list this module in ``AGENT_EXTRA_KINDS`` register, like a kind added by a rollout."""

from __future__ import annotations

import dataclasses

from agent.kinds import sleep

KIND = dataclasses.replace(
    sleep.KIND, name="relay", description="sleep, registered only through AGENT_EXTRA_KINDS (tests only)."
)
