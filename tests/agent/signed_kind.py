"""``signed``: resumable work whose result names the attempt and the process that produced it, padded
to a chosen size (over the S3 threshold, it is stored as an object).

Loaded through ``AGENT_EXTRA_KINDS`` by ``tests/agent/test_result_fencing.py``.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agentcore_async.kinds import TaskContext, TaskKind


class SignedInput(BaseModel):
    """Input of ``signed``."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    seconds: float = Field(gt=0, le=60, allow_inf_nan=False, description="How long the work takes.")
    padding: int = Field(ge=0, le=100_000, description="Characters of padding in the result.")


async def run(ctx: TaskContext, task_input: SignedInput) -> dict[str, Any]:
    """Wait ``seconds`` in one go, then say who finished."""
    await asyncio.sleep(task_input.seconds)
    return {"attempt": ctx.attempt, "pid": os.getpid(), "padding": "x" * task_input.padding}


KIND = TaskKind(
    name="signed",
    description="Wait, then return the attempt and process id that finished (tests only).",
    input_model=SignedInput,
    run=run,
    resumable=True,
)
