"""The HTTP surface: BedrockAgentCoreApp with our ping, invocation handling and JSON errors."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bedrock_agentcore import BedrockAgentCoreApp
from bedrock_agentcore.runtime.models import PingStatus
from opentelemetry.trace import Span
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from agent import metrics, telemetry
from agent.errors import ApiError, StoreUnavailableError, invalid_field, shutting_down, storage_unavailable
from agent.identity import token_subject
from agent.logs import bind
from agent.payloads import decode_json
from agent.ping import PingState
from agentcore_async.contract import AUTHORIZATION_HEADER, SESSION_HEADER, SESSION_ID_MAX_LENGTH, AuthMode

log = logging.getLogger("agent.app")
LOCAL_SESSION = "local-session-no-runtime-session-id-header"
"""Session used when a request carries no session header (only happens outside AgentCore)."""
MAX_SESSION_ID_CHARS = SESSION_ID_MAX_LENGTH
# boto3 sends no Content-Type unless asked, and some callers send octet-stream: both mean "JSON bytes".
ACCEPTED_MEDIA_TYPES = frozenset({"", "application/json", "application/octet-stream"})

Dispatcher = Callable[[str, str | None, dict[str, Any]], Awaitable[dict[str, Any]]]
"""Answers one payload for (session id, owner: the caller's identity under JWT auth, else None)."""


def error_response(error: ApiError) -> JSONResponse:
    """An application error: HTTP 200, so the body reaches callers through AgentCore."""
    return JSONResponse(error.body())


class AgentApp(BedrockAgentCoreApp):
    """The SDK app, with three contract fixes made in one place.

    * ``/ping`` timestamps change only on a status change, stamped when it happens.
    * Bodies are read with a size cap and parsed strictly (no NaN, no duplicate keys).
    * Every failure is ``{"error": {"code", "message"}}`` without exception text.
    """

    def __init__(
        self,
        *,
        ping_state: PingState,
        dispatch: Dispatcher,
        max_payload_bytes: int,
        auth: AuthMode = "iam",
    ) -> None:
        self.ping_state = ping_state
        self._dispatch = dispatch
        self._max_payload_bytes = max_payload_bytes
        self._auth = auth
        super().__init__()
        self.add_exception_handler(HTTPException, self._http_error)

    def get_current_ping_status(self) -> PingStatus:
        """The status from our transition-stamped state."""
        return self.ping_state.snapshot()[0]

    async def _handle_ping(self, request: Request) -> Response:
        status, changed_at = self.ping_state.snapshot()
        return JSONResponse({"status": status.value, "time_of_last_update": changed_at})

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        code = {404: "NotFound", 405: "MethodNotAllowed"}.get(status, "HttpError")
        return JSONResponse(
            {"error": {"code": code, "message": f"{request.method} {request.url.path}"}}, status
        )

    async def _read_body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        limit = self._max_payload_bytes
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise ApiError("PayloadTooLarge", f"payload is {declared} bytes; the limit is {limit}")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise ApiError("PayloadTooLarge", f"payload exceeds the limit of {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def _session_of(self, request: Request) -> str:
        session = request.headers.get(SESSION_HEADER)
        if session is None:
            log.warning(
                "no session header: using the fixed local session", extra={"session_id": LOCAL_SESSION}
            )
            return LOCAL_SESSION
        if not 1 <= len(session) <= MAX_SESSION_ID_CHARS or not session.isprintable():
            raise invalid_field(SESSION_HEADER, f"must be 1-{MAX_SESSION_ID_CHARS} printable characters")
        return session

    def _owner_of(self, request: Request) -> str | None:
        """The caller's identity under JWT auth (the token's subject); None under IAM auth."""
        if self._auth != "jwt":
            return None
        return token_subject(request.headers.get(AUTHORIZATION_HEADER))

    async def _handle_invocation(self, request: Request) -> Response:
        with telemetry.invocation_span(request.headers) as span:
            return await self._handle_traced(request, span)

    async def _handle_traced(self, request: Request, span: Span) -> Response:
        self._build_request_context(request)
        started = time.monotonic()
        session = LOCAL_SESSION
        action = "unknown"
        error: ApiError | None = None
        task_id: str | None = None
        response: Response
        try:
            session = self._session_of(request)
            bind(session_id=session)  # this request's task: every line it logs carries the session
            owner = self._owner_of(request)
            _check_media_type(request)
            payload = decode_json(await self._read_body(request), self._max_payload_bytes)
            action = str(payload.get("action", "prompt" if "prompt" in payload else "unknown"))[:64]
            body = await self._dispatch(session, owner, payload)
            task_id = body["task_id"] if isinstance(body.get("task_id"), str) else None
            response = await _json_response(body)
        except ApiError as refused:
            error = refused
            response = error_response(error)
        except StoreUnavailableError:
            error = storage_unavailable()
            response = error_response(error)
            metrics.storage_unavailable_answer()
        except asyncio.CancelledError:
            # The HTTP server gives up on calls still running once its graceful shutdown is over
            # (one waiting on a hung store): answer them "retry elsewhere", not with a bare 500.
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
            error = shutting_down()
            response = error_response(error)
        except Exception:
            log.exception("invocation failed")
            # The agent itself failed: the one answer that is not 2xx.
            error = ApiError("InternalError", "the agent could not handle the request")
            response = JSONResponse(error.body(), status_code=500)
        telemetry.end_invocation(
            span,
            session_id=session,
            action=action,
            http_status=response.status_code,
            error_code=None if error is None else error.code,
            task_id=task_id,
        )
        log.info(
            "invocation",
            extra={
                "action": action,
                "http_status": response.status_code,
                "error_code": None if error is None else error.code,
                "elapsed_ms": round((time.monotonic() - started) * 1000, 2),
            },
        )
        return response


def _check_media_type(request: Request) -> None:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in ACCEPTED_MEDIA_TYPES and not media_type.endswith("+json"):
        raise ApiError(
            "UnsupportedMediaType",
            f"content type {media_type[:64]!r} is not supported; send application/json",
        )


LARGE_RESULT_CHARS = 64 * 1024


async def _json_response(body: dict[str, Any]) -> Response:
    """Render a success body; a large inline result is encoded off the event loop so /ping stays fast."""
    result = body.get("result")
    if isinstance(result, str) and len(result) > LARGE_RESULT_CHARS:
        return await run_in_threadpool(JSONResponse, body)
    return JSONResponse(body)
