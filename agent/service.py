"""Wiring in one direction: settings → stores → ping state → engine → app."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette

from agent.app import AgentApp
from agent.engine import TaskEngine
from agent.payloads import CancelTask, GetTask, ListTasks, Prompt, StartTask, parse_request
from agent.ping import PingState
from agent.settings import Settings
from agent.store.base import Stores
from agent.store.factory import build_stores

log = logging.getLogger("agent.service")


def create_app(settings: Settings, stores: Stores | None = None) -> AgentApp:
    """The runnable ASGI app; stores default to those the settings describe.

    ``app.state.engine`` is the task engine, for the server's SIGTERM hook.
    """
    ping_state = PingState()
    engine = TaskEngine(settings, stores or build_stores(settings), busy=ping_state)

    async def dispatch(session_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        match parse_request(payload):
            case StartTask() as start:
                return await engine.start(session_id, start)
            case GetTask(task_id=task_id, wait_seconds=wait_seconds):
                return await engine.get(session_id, task_id, wait_seconds)
            case CancelTask(task_id=task_id):
                return await engine.cancel(session_id, task_id)
            case ListTasks(limit=limit, cursor=cursor):
                return await engine.list(session_id, limit, cursor)
            case Prompt(prompt=prompt):
                from agent.prompt import run_prompt  # noqa: PLC0415 - strands loads only when prompted

                return await run_prompt(settings, engine, session_id, prompt)

    app = AgentApp(ping_state=ping_state, dispatch=dispatch, max_payload_bytes=settings.max_payload_bytes)
    app.state.engine = engine

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
