"""A scripted strands model for offline tests of the prompt path.

It streams the same events a real model does (``messageStart``, ``contentBlockStart`` with a
``toolUse``, ``contentBlockDelta`` with the JSON input, ``messageStop`` with ``tool_use``), so the
real strands agent loop runs the real tools. Select it in an agent process with
``AGENT_MODEL_FACTORY=tests.agent.scripted_model:create``.

Script: "start a N second task" → calls ``start_background_task(duration=N)``;
"get_task_result(<id>)" → calls ``get_task_result(task_id=<id>)``; after a tool result it answers
with that result's text; anything else gets a plain text reply.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncGenerator, AsyncIterable
from typing import Any

from strands.models import Model
from strands.types.content import Messages
from strands.types.streaming import StreamEvent
from strands.types.tools import ToolSpec

from agent.settings import Settings

_START = re.compile(r"start an? (\d+(?:\.\d+)?)[- ]second task", re.IGNORECASE)
_GET = re.compile(r"get_task_result\(\s*([0-9a-f-]+)\s*\)")


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
        available = {spec["name"] for spec in tool_specs or []}
        last = messages[-1]
        tool_results = [block["toolResult"] for block in last["content"] if "toolResult" in block]
        if tool_results:
            text = " ".join(part.get("text", "") for r in tool_results for part in r["content"])
            for event in _text(text):
                yield event
            return
        prompt = " ".join(block.get("text", "") for block in last["content"])
        if (match := _START.search(prompt)) and "start_background_task" in available:
            events = _tool_use("start_background_task", {"duration": float(match.group(1))})
        elif (match := _GET.search(prompt)) and "get_task_result" in available:
            events = _tool_use("get_task_result", {"task_id": match.group(1)})
        else:
            events = _text("I can start a background task or check one.")
        for event in events:
            yield event


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
