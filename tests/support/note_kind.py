"""``note``: echoes its text, with the plain (lax) ``str`` field a kind's author is likely to write.

Loaded through ``AGENT_EXTRA_KINDS`` by the tests of text the payload may not carry.
"""

from __future__ import annotations

from pydantic import BaseModel

from agentcore_async.kinds import TaskContext, TaskKind


class NoteInput(BaseModel):
    """Input of ``note``: pydantic's defaults, not the strict models of the built-in kinds."""

    text: str


async def run(ctx: TaskContext, task_input: NoteInput) -> str:
    """The text, unchanged."""
    return task_input.text


KIND = TaskKind(name="note", description="Echo `text` (tests only).", input_model=NoteInput, run=run)
