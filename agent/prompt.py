"""The prompt path: a strands ``Agent`` whose tools call the same task engine.

The model is ``BedrockModel(model_id=settings.model_id)`` unless ``AGENT_MODEL_FACTORY``
names a ``module:function`` returning a ``strands.models.Model`` (tests use it to run
a scripted model offline through the real agent loop).
"""

from __future__ import annotations

import functools
import importlib
import logging
import time
from typing import Any

from pydantic import ValidationError
from strands import Agent, tool
from strands.models import Model

from agent.engine import TaskEngine
from agent.errors import ApiError
from agent.payloads import StartTask
from agent.settings import Settings

log = logging.getLogger("agent.prompt")
SYSTEM_PROMPT = (
    "You run long background tasks. Use start_background_task to start one and tell the user its id; "
    "use get_task_result to report a task's status or result. Never invent results."
)


@functools.cache
def load_model(settings: Settings) -> Model:
    """The configured model (built once per process): ``AGENT_MODEL_FACTORY``'s, else Bedrock."""
    if settings.model_factory:
        module_name, _, attribute = settings.model_factory.partition(":")
        factory = getattr(importlib.import_module(module_name), attribute)
        model: Model = factory(settings)
        return model
    from strands.models.bedrock import BedrockModel  # noqa: PLC0415 - only in production

    return BedrockModel(model_id=settings.model_id)


def build_agent(settings: Settings, engine: TaskEngine, session_id: str) -> Agent:
    """A fresh agent for one request, its tools bound to the caller's session."""

    @tool
    async def start_background_task(duration: float) -> str:
        """Start a background task that works for `duration` seconds; returns its task id."""
        try:
            request = StartTask.model_validate({"action": "start_background_task", "duration": duration})
            started = await engine.start(session_id, request)
        except ValidationError:
            return "duration must be a positive number of seconds"
        except ApiError as error:
            return f"could not start the task: {error.message}"
        task_id = started["task_id"]
        return f"Task {task_id} started. Poll with get_task_result({task_id})"

    @tool
    async def get_task_result(task_id: str) -> str:
        """Get the status of a background task, and its result once completed."""
        try:
            view = await engine.get(session_id, task_id.strip())
        except ApiError:
            return f"Task {task_id} not found"
        if view["status"] == "COMPLETED":
            return f"Result: {view.get('result') or view.get('result_url')}"
        if view["status"] == "RUNNING":
            return f"Task {task_id} still running ({view['progress']:.0%} done)"
        error = view.get("error", {}).get("message", "")
        return f"Task {task_id} is {view['status']}: {error}"

    return Agent(
        model=load_model(settings),
        tools=[start_background_task, get_task_result],
        system_prompt=SYSTEM_PROMPT,
        callback_handler=None,
    )


async def run_prompt(settings: Settings, engine: TaskEngine, session_id: str, prompt: str) -> dict[str, Any]:
    """Run the agent loop for one prompt; returns ``{"response": text}``."""
    started = time.monotonic()
    agent = build_agent(settings, engine, session_id)
    result = await agent.invoke_async(prompt)
    log.info(
        "prompt answered",
        extra={"session_id": session_id, "elapsed_ms": round((time.monotonic() - started) * 1000, 2)},
    )
    return {"response": str(result).strip()}
