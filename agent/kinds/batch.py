"""``batch``: applies one instruction to each item through the model, one item at a time.

Each output is checkpointed as soon as it exists: an item whose checkpoint was written is never
processed again; the item in flight when a microVM ends is processed at most twice.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from agentcore_async.contract import INPUTS_PREFIX
from agentcore_async.kinds import TaskContext, TaskError, TaskKind


class ObjectItem(BaseModel):
    """An item stored in the configured bucket."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    s3_key: Annotated[str, StringConstraints(pattern=rf"^{INPUTS_PREFIX}[^\s]{{1,1000}}$")] = Field(
        description=f"Key of a UTF-8 text object under {INPUTS_PREFIX} in the agent's bucket."
    )


Item = Annotated[str, StringConstraints(min_length=1, max_length=100_000)] | ObjectItem


class BatchInput(BaseModel):
    """Input of ``batch``."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    instruction: str = Field(min_length=1, max_length=4_000, description="What to do with each item.")
    items: list[Item] = Field(min_length=1, max_length=1_000, description="Text items, or {s3_key}.")


def system_prompt(instruction: str) -> str:
    """How each item is put to the model."""
    return f"Apply this instruction to the item you are given and answer with the result only: {instruction}"


async def _text_of(ctx: TaskContext, index: int, item: str | ObjectItem) -> str:
    if isinstance(item, str):
        return item
    try:
        data = await ctx.read_object(item.s3_key)
    except TaskError as error:
        if error.code == "ObjectNotFound":
            raise TaskError("ItemNotFound", f"items.{index}: {error.message}") from None
        raise
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise TaskError("BadItem", f"items.{index}: {item.s3_key} is not UTF-8 text") from None


async def run(ctx: TaskContext, task_input: BatchInput) -> list[Any]:
    """Process the items not yet done, in order; the result is every output in item order."""
    from strands import Agent  # noqa: PLC0415 - strands loads only when a batch runs

    outputs: list[Any] = list(ctx.resume_state["outputs"]) if ctx.resume_state else []
    total = len(task_input.items)
    for index, item in enumerate(task_input.items[len(outputs) :], start=len(outputs)):
        agent = Agent(
            model=ctx.model(), system_prompt=system_prompt(task_input.instruction), callback_handler=None
        )
        answer = await agent.invoke_async(await _text_of(ctx, index, item))
        outputs.append(str(answer).strip())
        ctx.progress(len(outputs) / total, f"{len(outputs)} of {total} items")
        await ctx.checkpoint({"outputs": outputs})
    return outputs


KIND = TaskKind(
    name="batch",
    description="Apply `instruction` to each of `items` through the model, one at a time; resumable.",
    input_model=BatchInput,
    run=run,
    resumable=True,
)
