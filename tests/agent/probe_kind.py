"""``probe``: work that reports what its context says (``ctx.cancelled``, ``ctx.stopping``,
``ctx.remaining_seconds``) as its progress message, also on its way out when it is cancelled.

Loaded through ``AGENT_EXTRA_KINDS`` by ``tests/agent/test_context_signals.py``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agentcore_async.kinds import TaskContext, TaskKind


class ProbeInput(BaseModel):
    """Input of ``probe``."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    seconds: float = Field(gt=0, le=3600, allow_inf_nan=False, description="How long to keep reporting.")


def _signals(ctx: TaskContext) -> dict[str, Any]:
    return {
        "cancelled": ctx.cancelled,
        "stopping": ctx.stopping,
        "remaining": round(ctx.remaining_seconds, 3),
    }


async def run(ctx: TaskContext, task_input: ProbeInput) -> dict[str, Any]:
    """Report the context's signals every checkpoint interval until ``seconds`` passed."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    try:
        while (elapsed := loop.time() - began) < task_input.seconds:
            ctx.progress(elapsed / task_input.seconds, json.dumps(_signals(ctx)))
            await asyncio.sleep(min(ctx.checkpoint_interval, task_input.seconds - elapsed))
    except asyncio.CancelledError:
        # What the work sees when it is stopped: kept in the record's last message.
        ctx.progress(0.5, json.dumps({**_signals(ctx), "on_the_way_out": True}))
        raise
    return _signals(ctx)


KIND = TaskKind(
    name="probe",
    description="Report ctx.cancelled, ctx.stopping and ctx.remaining_seconds (tests only).",
    input_model=ProbeInput,
    run=run,
)
