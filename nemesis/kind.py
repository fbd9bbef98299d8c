"""``tally``: deterministic, checkpointed work whose every item is counted in a side channel.

The result's ``value`` is a function of the input alone, so a wrong or stale result is visible;
it also names the attempt that produced it, so an older attempt's result under a newer attempt's
record is visible too. Each finished item appends one line to the file named by
``NEMESIS_COUNTS_PATH`` before its checkpoint, so an item run again shows up as a second line.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agentcore_async.kinds import TaskContext, TaskKind

COUNTS_ENV = "NEMESIS_COUNTS_PATH"


class TallyInput(BaseModel):
    """Input of ``tally``."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    items: list[int] = Field(min_length=1, max_length=200, description="Numbers to square and add.")
    pause: float = Field(ge=0, le=10, allow_inf_nan=False, description="Seconds of work per item.")
    pad: int = Field(0, ge=0, le=65536, description="Bytes of padding in the result (for S3 results).")
    label: str = Field("", max_length=64, strict=False, description="Free text, carried into the result.")


def expected_value(items: list[int]) -> int:
    """What a ``tally`` of ``items`` must answer, whatever attempts ran it."""
    return sum(item * item for item in items)


def _count(task_id: str, index: int, attempt: int) -> None:
    path = os.environ.get(COUNTS_ENV)
    if not path:
        return
    # One short O_APPEND write per line: lines from concurrent processes never interleave.
    line = f"{task_id} {index} {attempt} {os.getpid()}\n".encode()
    fd = os.open(Path(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


async def run(ctx: TaskContext, task_input: TallyInput) -> dict[str, Any]:
    """Square and add the items one by one, checkpointing after each."""
    state = ctx.resume_state or {"done": 0, "total": 0}
    done, total = int(state["done"]), int(state["total"])
    items = task_input.items
    while done < len(items):
        await asyncio.sleep(task_input.pause)
        total += items[done] * items[done]
        _count(ctx.task_id, done, ctx.attempt)
        done += 1
        ctx.progress(done / len(items), f"{done} of {len(items)} items")
        if done < len(items):  # padded like the result, so a padded task's checkpoints spill to S3 too
            await ctx.checkpoint({"done": done, "total": total, "pad": "x" * task_input.pad})
    return {"value": total, "attempt": ctx.attempt, "label": task_input.label, "pad": "x" * task_input.pad}


KIND = TaskKind(
    name="tally",
    description="Square and add `items`, `pause` seconds each, checkpointing every item (nemesis).",
    input_model=TallyInput,
    run=run,
    resumable=True,
)
