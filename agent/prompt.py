"""The prompt path: a strands ``Agent`` whose tools start and manage tasks through the same engine.

Every registered kind becomes a tool ``start_<kind>`` whose input schema is the kind's input model,
next to ``get_task_result``, ``cancel_task`` and ``list_tasks``; so "research X in the background"
starts the right kind and answers with its id at once.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from strands import Agent
from strands.tools.tools import PythonAgentTool
from strands.types.tools import ToolResult, ToolUse

from agent.engine import TaskEngine
from agent.errors import ApiError
from agent.model import load_model
from agent.payloads import StartTask
from agent.settings import Settings
from agentcore_async.kinds import TaskKind

log = logging.getLogger("agent.prompt")
SYSTEM_PROMPT = (
    "You run long tasks in the background. Start one with the matching start_* tool and tell the user "
    "its task id at once; use get_task_result to report a task's status or result, cancel_task to stop "
    "one and list_tasks to show them. Never invent results."
)

ToolHandler = Callable[[dict[str, Any]], Awaitable[str]]


def _tool(name: str, description: str, schema: dict[str, Any], handler: ToolHandler) -> PythonAgentTool:
    async def call(tool_use: ToolUse, **_: Any) -> ToolResult:
        try:
            text = await handler(dict(tool_use.get("input") or {}))
            status = "success"
        except ApiError as error:
            text, status = f"{error.code}: {error.message}", "error"
        return {"toolUseId": tool_use["toolUseId"], "status": status, "content": [{"text": text}]}  # type: ignore[typeddict-item]

    spec = {"name": name, "description": description, "inputSchema": {"json": schema}}
    return PythonAgentTool(name, spec, call)  # type: ignore[arg-type]


def _task_id_schema(description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"task_id": {"type": "string", "description": description}},
        "required": ["task_id"],
    }


def task_tools(engine: TaskEngine, session_id: str, owner: str | None = None) -> list[Any]:
    """The tools of one request, bound to the caller's session (and identity, under JWT auth)."""

    def starter(kind: TaskKind[Any]) -> PythonAgentTool:
        async def start(arguments: dict[str, Any]) -> str:
            request = StartTask(action="start_task", kind=kind.name, input=arguments)
            started = await engine.start(session_id, request, owner=owner)
            task_id = started["task_id"]
            return f"Task {task_id} started. Poll with get_task_result({task_id})"

        description = f"{kind.description} Runs in the background: returns a task id at once."
        return _tool(f"start_{kind.name}", description, kind.input_model.model_json_schema(), start)

    async def get(arguments: dict[str, Any]) -> str:
        view = await engine.get(session_id, str(arguments.get("task_id", "")).strip(), owner=owner)
        if view["status"] == "COMPLETED":
            result = view.get("result", view.get("result_url"))
            return f"Result: {result if isinstance(result, str) else json.dumps(result)}"
        if view["status"] in ("RUNNING", "SUSPENDED"):
            return f"Task {view['task_id']} is {view['status']} ({view['progress']:.0%} done)"
        error = view.get("error", {}).get("message", "")
        return f"Task {view['task_id']} is {view['status']}: {error}"

    async def cancel(arguments: dict[str, Any]) -> str:
        view = await engine.cancel(session_id, str(arguments.get("task_id", "")).strip(), owner=owner)
        return f"Task {view['task_id']} is {view['status']}"

    async def listing(arguments: dict[str, Any]) -> str:
        page = await engine.list(session_id, 20, None, owner=owner)
        lines = [f"{t['task_id']} {t['kind']} {t['status']} {t['progress']:.0%}" for t in page["tasks"]]
        return "\n".join(lines) or "No tasks in this session."

    return [
        *(starter(kind) for kind in engine.kinds),
        _tool(
            "get_task_result",
            "Get the status of a background task, and its result once completed.",
            _task_id_schema("The task id a start_* tool returned."),
            get,
        ),
        _tool("cancel_task", "Cancel a background task.", _task_id_schema("The task to cancel."), cancel),
        _tool(
            "list_tasks",
            "List this session's background tasks, newest first.",
            {"type": "object", "properties": {}},
            listing,
        ),
    ]


async def run_prompt(
    settings: Settings, engine: TaskEngine, session_id: str, prompt: str, *, owner: str | None = None
) -> dict[str, Any]:
    """Run the agent loop for one prompt; returns ``{"response": text}``."""
    started = time.monotonic()
    agent = Agent(
        model=load_model(settings),
        tools=task_tools(engine, session_id, owner),
        system_prompt=SYSTEM_PROMPT,
        callback_handler=None,
    )
    result = await agent.invoke_async(prompt)
    log.info(
        "prompt answered",
        extra={"elapsed_ms": round((time.monotonic() - started) * 1000, 2)},
    )
    return {"response": str(result).strip()}
