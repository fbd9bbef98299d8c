"""``fails``: work that ends FAILED with its own error code, for tests of how failures are reported.

Loaded through ``AGENT_EXTRA_KINDS`` by the tests that need it.
"""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, ConfigDict, Field

from agentcore_async.kinds import TaskContext, TaskError, TaskKind

ERROR_CODE = "InputRejected"


class FailsInput(BaseModel):
    """Input of ``fails``."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    after: float = Field(0.1, ge=0, le=60, allow_inf_nan=False, description="Seconds before it fails.")
    reason: str = Field("the input was rejected", min_length=1, max_length=1000)


async def run(_ctx: TaskContext, task_input: FailsInput) -> str:
    """Wait, then fail with :data:`ERROR_CODE` and ``reason``."""
    await asyncio.sleep(task_input.after)
    raise TaskError(ERROR_CODE, task_input.reason)


KIND = TaskKind(
    name="fails",
    description="Wait `after` seconds, then fail with `reason` (tests only).",
    input_model=FailsInput,
    run=run,
)
