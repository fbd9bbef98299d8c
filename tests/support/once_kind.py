"""``once``: work that is not resumable, for tests of what happens to such work when its microVM
ends (it reads LOST, where a resumable kind is suspended and resumed).

Agents started by the test helpers load it through ``AGENT_EXTRA_KINDS``.
"""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, ConfigDict, Field

from agentcore_async.kinds import InputProblem, StartLimits, TaskContext, TaskKind


class OnceInput(BaseModel):
    """Input of ``once``."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    duration: float = Field(gt=0, allow_inf_nan=False, description="Seconds of work.")


def check(task_input: OnceInput, limits: StartLimits) -> None:
    """Not resumable: the work must fit in this microVM."""
    if task_input.duration > limits.max_seconds:
        raise InputProblem("duration", limits.over_time)


async def run(ctx: TaskContext, task_input: OnceInput) -> str:
    """Wait, reporting progress; start over if it ever ran again."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    while (elapsed := loop.time() - began) < task_input.duration:
        await asyncio.sleep(min(ctx.checkpoint_interval, task_input.duration - elapsed))
        ctx.progress(min(1.0, (loop.time() - began) / task_input.duration))
    return f"waited {task_input.duration:g}s once"


KIND = TaskKind(
    name="once",
    description="Wait `duration` seconds in one go (not resumable).",
    input_model=OnceInput,
    run=run,
    check=check,
)
