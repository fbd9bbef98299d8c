"""A scripted strands model for offline tests of the prompt path.

It streams the same events a real model does (``messageStart``, ``contentBlockStart`` with a
``toolUse``, ``contentBlockDelta`` with the JSON input, ``messageStop`` with ``tool_use``), so the
real strands agent loop runs the real tools. Select it in an agent process with
``AGENT_MODEL_FACTORY=tests.agent.scripted_model:create``.

Scripts:

- Prompt path: "start a N second task" → ``start_sleep(duration=N)``; "batch <instruction>: a, b" →
  ``start_batch``; "get_task_result(<id>)" → ``get_task_result(task_id=<id>)``; after a tool result
  it answers with that result's text; anything else gets a plain text reply.
- ``agent_run``: instructions "take N steps of S seconds" → one ``wait_seconds(S)`` call per turn
  until N were made, then "done after N steps".
- ``batch``: an item under the batch system prompt → "<instruction word>: <item>" (``upper`` gives
  the item in capitals).

``SCRIPTED_MODEL_SECONDS`` makes every call take that long (like a real model's latency), and
``SCRIPTED_MODEL_CALLS`` names a file that gets one line per call, so a test can count model calls
across processes.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import uuid
from collections.abc import AsyncGenerator, AsyncIterable
from pathlib import Path
from typing import Any

from strands.models import Model
from strands.types.content import Messages
from strands.types.streaming import StreamEvent
from strands.types.tools import ToolSpec

from agent.settings import Settings

_START = re.compile(r"start an? (\d+(?:\.\d+)?)[- ]second task", re.IGNORECASE)
_BATCH = re.compile(r"^batch (\w+): (.+)$", re.IGNORECASE)
_GET = re.compile(r"get_task_result\(\s*([0-9a-f-]+)\s*\)")
_STEPS = re.compile(r"take (\d+) steps? of (\d+(?:\.\d+)?) seconds?", re.IGNORECASE)
_BATCH_SYSTEM = re.compile(r"Apply this instruction .*?: (.*)$", re.DOTALL)


def recorded_calls(path: Path) -> list[str]:
    """The lines the model wrote to its ``SCRIPTED_MODEL_CALLS`` file, one per call (none before the
    first call makes the file)."""
    return path.read_text().splitlines() if path.exists() else []


def create(settings: Settings) -> ScriptedModel:
    """The factory named by ``AGENT_MODEL_FACTORY``."""
    return ScriptedModel()


class ScriptedModel(Model):
    """Decides from the last message which tool to call, like a (very literal) model."""

    def __init__(self) -> None:
        self.config: dict[str, Any] = {"model_id": "scripted"}

    def update_config(self, **model_config: Any) -> None:
        """Merge config."""
        self.config.update(model_config)

    def get_config(self) -> dict[str, Any]:
        """The config."""
        return self.config

    def structured_output(self, *args: Any, **kwargs: Any) -> AsyncGenerator[dict[str, Any], None]:
        """Not used by the agent."""
        raise NotImplementedError

    async def stream(
        self,
        messages: Messages,
        tool_specs: list[ToolSpec] | None = None,
        system_prompt: str | None = None,
        **kwargs: Any,
    ) -> AsyncIterable[StreamEvent]:
        """Stream a tool call or a text answer."""
        if calls := os.environ.get("SCRIPTED_MODEL_CALLS"):
            with Path(calls).open("a", encoding="utf-8") as file:
                file.write(f"{_text_of(messages[-1])[:80]!r}\n")
        if delay := float(os.environ.get("SCRIPTED_MODEL_SECONDS", "0")):
            await asyncio.sleep(delay)
        for event in _answer(messages, {spec["name"] for spec in tool_specs or []}, system_prompt or ""):
            yield event


def _text_of(message: Any) -> str:
    return " ".join(block.get("text", "") for block in message["content"])


def _answer(messages: Messages, available: set[str], system_prompt: str) -> list[StreamEvent]:
    if batch := _BATCH_SYSTEM.match(system_prompt):
        item = _text_of(messages[-1])
        word = batch.group(1).split()[0].lower()
        return _text(item.upper() if word == "upper" else f"{word}: {item}")
    first = _text_of(messages[0])
    if (steps := _STEPS.search(first)) and "wait_seconds" in available:
        taken = sum(1 for m in messages if any("toolUse" in block for block in m["content"]))
        if taken < int(steps.group(1)):
            return _tool_use("wait_seconds", {"seconds": float(steps.group(2))})
        return _text(f"done after {taken} steps")
    return _prompt_answer(messages[-1], available)


def _prompt_answer(last: Any, available: set[str]) -> list[StreamEvent]:
    tool_results = [block["toolResult"] for block in last["content"] if "toolResult" in block]
    if tool_results:
        return _text(" ".join(part.get("text", "") for r in tool_results for part in r["content"]))
    prompt = _text_of(last)
    if (match := _START.search(prompt)) and "start_sleep" in available:
        return _tool_use("start_sleep", {"duration": float(match.group(1))})
    if (match := _BATCH.search(prompt)) and "start_batch" in available:
        items = [item.strip() for item in match.group(2).split(",")]
        return _tool_use("start_batch", {"instruction": match.group(1), "items": items})
    if (match := _GET.search(prompt)) and "get_task_result" in available:
        return _tool_use("get_task_result", {"task_id": match.group(1)})
    return _text("I can start a background task or check one.")


def _tool_use(name: str, arguments: dict[str, Any]) -> list[StreamEvent]:
    tool_use_id = f"tooluse_{uuid.uuid4().hex[:12]}"
    return [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockStart": {"start": {"toolUse": {"toolUseId": tool_use_id, "name": name}}}},
        {"contentBlockDelta": {"delta": {"toolUse": {"input": json.dumps(arguments)}}}},
        {"contentBlockStop": {}},
        {"messageStop": {"stopReason": "tool_use"}},
        _metadata(),
    ]


def _text(text: str) -> list[StreamEvent]:
    return [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockStart": {"start": {}}},
        {"contentBlockDelta": {"delta": {"text": text}}},
        {"contentBlockStop": {}},
        {"messageStop": {"stopReason": "end_turn"}},
        _metadata(),
    ]


def _metadata() -> StreamEvent:
    return {
        "metadata": {
            "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
            "metrics": {"latencyMs": 1},
        }
    }
