"""``spin``: CPU-bound work (pure-Python arithmetic), for the /ping figure and the CPU-bound tests.

Loaded into an agent with ``AGENT_EXTRA_KINDS=bench.kinds``. It runs in a worker process, checkpoints
after every round and resumes after the last one stored.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agentcore_async.kinds import TaskKind


class SpinInput(BaseModel):
    """Input of ``spin``."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    rounds: int = Field(ge=1, le=10_000, description="How many rounds of work.")
    round_seconds: float = Field(0.2, gt=0, le=60, description="CPU seconds per round.")


def spin(seconds: float) -> int:
    """Pure-Python arithmetic for ``seconds`` of CPU; returns a value so the work is not skipped."""
    deadline = time.monotonic() + seconds
    total = 0
    while time.monotonic() < deadline:
        for i in range(5_000):
            total = (total + i * i) % 1_000_003
    return total


def run(ctx: Any, task_input: SpinInput) -> dict[str, Any]:
    """Spin ``rounds`` times; the digest depends only on the rounds done, not on timing."""
    state = ctx.resume_state or {"done": 0, "digest": ""}
    done, digest = int(state["done"]), str(state["digest"])
    while done < task_input.rounds:
        spin(task_input.round_seconds)
        done += 1
        digest = hashlib.sha256(f"{digest}:{done}".encode()).hexdigest()
        ctx.progress(done / task_input.rounds, f"{done} of {task_input.rounds} rounds")
        ctx.checkpoint({"done": done, "digest": digest})
    return {"rounds": done, "digest": digest, "attempt": ctx.attempt}


def expected_digest(rounds: int) -> str:
    """The digest an uninterrupted run of ``rounds`` rounds produces."""
    digest = ""
    for done in range(1, rounds + 1):
        digest = hashlib.sha256(f"{digest}:{done}".encode()).hexdigest()
    return digest


KIND = TaskKind(
    name="spin",
    description="CPU-bound arithmetic in rounds, in a worker process; resumable.",
    input_model=SpinInput,
    run=run,
    resumable=True,
    cpu_bound=True,
)
