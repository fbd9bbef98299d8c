"""Wiring: settings → stores → engine → app, with the action handlers."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette

from agent.app import AgentApp, dispatcher_for
from agent.engine import TaskEngine
from agent.payloads import CancelTask, GetTask, ListTasks, Prompt, StartTask
from agent.settings import Settings
from agent.store.base import Stores
from agent.store.factory import build_stores

log = logging.getLogger("agent.service")


def create_app(settings: Settings, stores: Stores | None = None) -> AgentApp:
    """The runnable ASGI app; stores default to those the settings describe."""
    app = AgentApp(max_payload_bytes=settings.max_payload_bytes)
    engine = TaskEngine(settings, stores or build_stores(settings), busy=app)

    async def start(session_id: str, request: StartTask) -> dict[str, Any]:
        return await engine.start(session_id, request)

    async def get(session_id: str, request: GetTask) -> dict[str, Any]:
        return await engine.get(session_id, request.task_id, request.wait_seconds)

    async def cancel(session_id: str, request: CancelTask) -> dict[str, Any]:
        return await engine.cancel(session_id, request.task_id)

    async def list_tasks(session_id: str, request: ListTasks) -> dict[str, Any]:
        return await engine.list(session_id, request.limit, request.cursor)

    async def prompt(session_id: str, request: Prompt) -> dict[str, Any]:
        from agent.prompt import run_prompt  # noqa: PLC0415 - strands loads only when prompted

        return await run_prompt(settings, engine, session_id, request.prompt)

    app.set_dispatcher(
        dispatcher_for(
            {StartTask: start, GetTask: get, CancelTask: cancel, ListTasks: list_tasks, Prompt: prompt}
        )
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        log.info(
            "agent ready",
            extra={
                "store": settings.backend,
                "redis": bool(settings.redis_url),
                "s3": bool(settings.bucket_name),
            },
        )
        yield
        await engine.shutdown()

    app.router.lifespan_context = lifespan
    return app
