"""Wiring in one direction: settings → stores and announcer → ping state → engine → app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette

from agent import metrics, telemetry
from agent.app import AgentApp
from agent.engine import TaskEngine
from agent.kinds import KIND_MODULES
from agent.kinds.registry import Kinds
from agent.metric_sender import MetricSender, cloudwatch_client
from agent.model import load_model
from agent.payloads import (
    CancelTask,
    GetTask,
    ListKinds,
    ListTasks,
    Prompt,
    StartBackgroundTask,
    StartTask,
    parse_request,
)
from agent.ping import PingState
from agent.settings import Settings, SettingsError
from agent.store.base import Stores
from agent.store.factory import build_announcer, build_stores

log = logging.getLogger("agent.service")
SPAN_FLUSH_SECONDS = 2.0
"""How long shutdown waits for the last spans to be exported (inside AgentCore's 15 s grace)."""


Route = Callable[[str, str | None, Any], Awaitable[dict[str, Any]]]
"""Answers one typed request for (session id, owner)."""


def _routes(engine: TaskEngine, settings: Settings) -> dict[type[Any], Route]:
    """Each request type mapped straight onto the engine method that answers it."""

    async def prompt(session_id: str, owner: str | None, request: Prompt) -> dict[str, Any]:
        from agent.prompt import run_prompt  # noqa: PLC0415 - strands loads only when prompted

        return await run_prompt(settings, engine, session_id, request.prompt, owner=owner)

    async def kinds(_session_id: str, _owner: str | None, _request: ListKinds) -> dict[str, Any]:
        return {"kinds": engine.kinds.describe()}

    async def start_task(session_id: str, owner: str | None, request: StartTask) -> dict[str, Any]:
        return await engine.start(session_id, request, owner=owner)

    async def start_background_task(
        session_id: str, owner: str | None, request: StartBackgroundTask
    ) -> dict[str, Any]:
        return await engine.start(session_id, request.as_start_task(), owner=owner)

    async def get(session_id: str, owner: str | None, request: GetTask) -> dict[str, Any]:
        return await engine.get(
            session_id, request.task_id, request.wait_seconds, request.last_progress, owner=owner
        )

    async def cancel(session_id: str, owner: str | None, request: CancelTask) -> dict[str, Any]:
        return await engine.cancel(session_id, request.task_id, owner=owner)

    async def list_tasks(session_id: str, owner: str | None, request: ListTasks) -> dict[str, Any]:
        return await engine.list(session_id, request.limit, request.cursor, owner=owner)

    return {
        StartTask: start_task,
        StartBackgroundTask: start_background_task,
        GetTask: get,
        CancelTask: cancel,
        ListTasks: list_tasks,
        ListKinds: kinds,
        Prompt: prompt,
    }


def create_app(settings: Settings, stores: Stores | None = None) -> AgentApp:
    """The runnable ASGI app; stores default to those the settings describe.

    ``app.state.engine`` is the task engine, for the server's SIGTERM hook.
    """
    try:
        kinds = Kinds.load((*KIND_MODULES, *settings.extra_kinds))
    except (ImportError, ValueError) as exc:
        raise SettingsError(f"cannot load the task kinds: {exc}") from None
    metrics.bind_runtime(settings.runtime_name)
    if settings.metrics == "put_metric_data":
        metrics.send_with(MetricSender(cloudwatch_client()))
    ping_state = PingState()
    engine = TaskEngine(
        settings,
        stores or build_stores(settings),
        busy=ping_state,
        kinds=kinds,
        model=lambda: load_model(settings),
        announcer=build_announcer(settings),
    )

    routes = _routes(engine, settings)

    async def dispatch(session_id: str, owner: str | None, payload: dict[str, Any]) -> dict[str, Any]:
        request = parse_request(payload)
        await engine.visit(session_id)
        return await routes[type(request)](session_id, owner, request)

    app = AgentApp(
        ping_state=ping_state,
        dispatch=dispatch,
        max_payload_bytes=settings.max_payload_bytes,
        auth=settings.auth,
    )
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
        await asyncio.to_thread(telemetry.flush, SPAN_FLUSH_SECONDS)

    app.router.lifespan_context = lifespan
    return app
