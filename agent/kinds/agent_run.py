"""``agent_run``: a strands agent works on ``instructions`` in the background with its own tools.

The conversation is checkpointed after every message, so a resumed attempt continues from the last
completed turn (a tool call in flight when the microVM ended runs again; no model turn does).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agentcore_async.kinds import TaskContext, TaskError, TaskKind

SYSTEM_PROMPT = (
    "You work on the user's instructions on your own, in the background, with the tools you have. "
    "When you are done, answer with the final result only."
)


class AgentRunInput(BaseModel):
    """Input of ``agent_run``."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    instructions: str = Field(min_length=1, max_length=20_000, description="What the agent should do.")
    max_steps: int = Field(20, ge=1, le=200, description="Model turns allowed in total, across resumes.")


def _tools() -> list[Any]:
    """The agent's own tools (strands is imported only when an agent_run runs)."""
    from strands import tool  # noqa: PLC0415

    @tool
    def current_time() -> str:
        """The current time (UTC, ISO 8601)."""
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    @tool
    async def wait_seconds(seconds: float) -> str:
        """Wait this many seconds (at most 300), e.g. for something outside to make progress."""
        seconds = min(max(float(seconds), 0.0), 300.0)
        await asyncio.sleep(seconds)
        return f"waited {seconds:g} seconds"

    return [current_time, wait_seconds]


def _checkpoint_every_message(ctx: TaskContext, max_steps: int) -> Any:
    """A strands hook that stores the whole conversation each time a message is added."""
    from strands.hooks import HookProvider, HookRegistry, MessageAddedEvent  # noqa: PLC0415

    class CheckpointEveryMessage(HookProvider):
        def register_hooks(self, registry: HookRegistry, **kwargs: Any) -> None:
            registry.add_callback(MessageAddedEvent, self.added)

        async def added(self, event: MessageAddedEvent) -> None:
            messages = event.agent.messages
            steps = _steps(messages)
            ctx.progress(steps / max_steps, f"{steps} of at most {max_steps} steps")
            await ctx.checkpoint({"messages": messages})

    return CheckpointEveryMessage()


def _steps(messages: list[Any]) -> int:
    return sum(1 for message in messages if message["role"] == "assistant")


def _final_text(messages: list[Any]) -> str | None:
    """The answer, if the conversation already ended with one (no tool call pending)."""
    if not messages or messages[-1]["role"] != "assistant":
        return None
    content = messages[-1]["content"]
    if any("toolUse" in block for block in content):
        return None
    return "".join(block.get("text", "") for block in content).strip()


async def run(ctx: TaskContext, task_input: AgentRunInput) -> str:
    """Run (or continue) the agent loop until it answers or runs out of steps."""
    saved: list[Any] = list(ctx.resume_state["messages"]) if ctx.resume_state else []
    finished = _final_text(saved)
    if finished is not None:
        return finished
    left = task_input.max_steps - _steps(saved)
    if left <= 0:
        raise TaskError("StepLimit", f"no answer within max_steps ({task_input.max_steps})")
    from strands import Agent  # noqa: PLC0415 - strands loads only when an agent_run runs

    agent = Agent(
        model=ctx.model(),
        tools=_tools(),
        system_prompt=SYSTEM_PROMPT,
        messages=saved,
        hooks=[_checkpoint_every_message(ctx, task_input.max_steps)],
        callback_handler=None,
    )
    if saved:
        ctx.log.info("continuing the conversation", extra={"messages": len(saved)})
    result = await agent.invoke_async(None if saved else task_input.instructions, limits={"turns": left})
    if result.stop_reason == "limit_turns":
        raise TaskError("StepLimit", f"no answer within max_steps ({task_input.max_steps})")
    return str(result).strip()


KIND = TaskKind(
    name="agent_run",
    description="A strands agent works on `instructions` in the background; the final answer is the result.",
    input_model=AgentRunInput,
    run=run,
    resumable=True,
)
