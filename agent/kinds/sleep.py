"""``sleep``: the seed's demo work, now resumable. It waits ``duration`` seconds in total, across
as many microVMs as it takes, and checkpoints the seconds already done."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, ConfigDict, Field

from agent.work import result_text
from agentcore_async.kinds import InputProblem, StartLimits, TaskContext, TaskKind


class SleepInput(BaseModel):
    """Input of ``sleep``."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    duration: float = Field(gt=0, allow_inf_nan=False, description="Seconds of work in total.")
    result_bytes: int | None = Field(
        None, ge=0, description="Pad (or cut) the result to exactly this many bytes."
    )


def check(task_input: SleepInput, limits: StartLimits) -> None:
    """Refuse a duration the agent cannot run and a result larger than allowed."""
    if task_input.duration > limits.max_seconds:
        raise InputProblem("duration", limits.over_time)
    if task_input.result_bytes is not None and task_input.result_bytes > limits.max_result_bytes:
        raise InputProblem("result_bytes", f"must be at most {limits.max_result_bytes}")


async def run(ctx: TaskContext, task_input: SleepInput) -> str:
    """Sleep in checkpointed steps; a resumed attempt sleeps only what is left."""
    total = task_input.duration
    before = float(ctx.resume_state["done"]) if ctx.resume_state else 0.0
    loop = asyncio.get_running_loop()
    began = loop.time()

    def done() -> float:
        return min(total, before + loop.time() - began)

    try:
        while (elapsed := done()) < total:
            await asyncio.sleep(min(ctx.checkpoint_interval, total - elapsed))
            elapsed = done()
            ctx.progress(elapsed / total, f"{elapsed:.1f} of {total:g} s")
            if elapsed < total:
                await ctx.checkpoint({"done": elapsed})
    except asyncio.CancelledError:
        if ctx.stopping:  # the microVM is ending: keep every second already slept
            await ctx.checkpoint({"done": done()})
        raise
    return result_text(total, task_input.result_bytes)


KIND = TaskKind(
    name="sleep",
    description="Wait `duration` seconds (the seed's demo work); resumable across microVMs.",
    input_model=SleepInput,
    run=run,
    resumable=True,
    check=check,
)
