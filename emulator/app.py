"""The data-plane HTTP API: InvokeAgentRuntime, StopRuntimeSession and the session table."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Final

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from agentcore_async.contract import AUTHORIZATION_HEADER, SESSION_HEADER
from emulator.errors import REQUEST_ID_HEADER, ServiceError, error_response
from emulator.forwarding import deliver, read_error_body, relay
from emulator.jwt_auth import JwtVerifier, method_mismatch_without_jwt
from emulator.runtime import Runtime
from emulator.session_ids import generated_session_id, runtime_session_id_problem

log = logging.getLogger("emulator")

MAX_PAYLOAD_BYTES: Final = 100_000_000
AGENT_ERROR_MESSAGE: Final = (
    "Received error ({status}) from runtime. Please check your CloudWatch logs for more information."
)
# Request headers the runtime hands on to the agent container (Authorization too, under JWT auth:
# the stack allowlists it in the runtime's RequestHeaderConfiguration).
FORWARDED_HEADERS: Final = (
    "content-type",
    "accept",
    "x-amzn-bedrock-agentcore-runtime-user-id",
    "x-amzn-trace-id",
    "traceparent",
    "tracestate",
    "baggage",
    "mcp-session-id",
    "mcp-protocol-version",
)


class _ProxiedStream(StreamingResponse):
    """A streamed agent response that always runs ``on_close``, even if the caller hangs up."""

    def __init__(
        self,
        chunks: AsyncIterator[bytes],
        headers: dict[str, str],
        on_close: Callable[[], Awaitable[None]],
    ) -> None:
        super().__init__(chunks, status_code=200, headers=headers)
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._on_close()


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _check_caller(request: Request) -> None:
    """Under JWT auth, a verified bearer token (before anything else, as AgentCore's authorizer);
    under IAM auth, no bearer token (signatures are not checked: see the README)."""
    authorization = request.headers.get(AUTHORIZATION_HEADER)
    verifier: JwtVerifier | None = request.app.state.jwt
    if verifier is None:
        method_mismatch_without_jwt(authorization)
    else:
        verifier.subject(authorization)


def _check_target(request: Request) -> str:
    """The runtime ARN from the path, if configured, with an acceptable qualifier."""
    _check_caller(request)
    runtime = _runtime(request)
    arn = str(request.path_params["arn"])
    if arn not in runtime.config.runtime_arns:
        raise ServiceError("ResourceNotFoundException", f"No agent runtime with ARN {arn}")
    qualifier = request.query_params.get("qualifier")
    if qualifier is not None and qualifier not in runtime.config.qualifiers:
        raise ServiceError("ResourceNotFoundException", f"No endpoint {qualifier} for agent runtime {arn}")
    return arn


def _session_id(request: Request, *, required: bool) -> str:
    session_id = request.headers.get(SESSION_HEADER)
    if session_id is None:
        if required:
            raise ServiceError(
                "ValidationException", "runtimeSessionId is required", field="runtimeSessionId"
            )
        return generated_session_id()
    problem = runtime_session_id_problem(session_id)
    if problem is not None:
        raise ServiceError("ValidationException", problem, field="runtimeSessionId")
    return session_id


async def _read_payload(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_PAYLOAD_BYTES:
        raise ServiceError("ValidationException", "payload is larger than 100000000 bytes", field="payload")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_PAYLOAD_BYTES:
            raise ServiceError(
                "ValidationException", "payload is larger than 100000000 bytes", field="payload"
            )
    return bytes(body)


def _agent_error(status: int, body: bytes, *, detail: bool) -> ServiceError:
    """What the caller sees when the agent answers non-2xx: AgentCore's RuntimeClientError.

    AgentCore drops the agent's body and names only the status (the developer guide's runtime
    troubleshooting page); ``detail`` (``--agent-error-detail``) appends the agent's error code.
    """
    message = AGENT_ERROR_MESSAGE.format(status=status)
    code = _agent_error_code(body) if detail else None
    if code is not None:
        message += f" (agent error code: {code})"
    return ServiceError("RuntimeClientError", message)


def _agent_error_code(body: bytes) -> str | None:
    """``error.code`` of the agent's ``{"error": {"code", "message"}}`` body, if it is an identifier."""
    try:
        parsed = json.loads(body)
        code = parsed["error"]["code"] if isinstance(parsed, dict) else None
    except (ValueError, KeyError, TypeError):
        return None
    return code if isinstance(code, str) and code.isidentifier() else None


async def invoke_agent_runtime(request: Request) -> Response:
    """POST /runtimes/{agentRuntimeArn}/invocations: forward the payload to the session's microVM."""
    arn = _check_target(request)
    session_id = _session_id(request, required=False)
    payload = await _read_payload(request)
    runtime = _runtime(request)
    headers = {name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers}
    if runtime.config.jwt is not None:
        headers[AUTHORIZATION_HEADER] = request.headers[AUTHORIZATION_HEADER]
    headers.setdefault("content-type", "application/json")
    headers[SESSION_HEADER] = session_id
    vm, upstream = await deliver(runtime, arn, session_id, headers, payload)
    if upstream.status_code >= 300:
        try:
            body = await read_error_body(runtime, vm, upstream)
        finally:
            await upstream.aclose()
            runtime.release(vm)
        log.info("session=%s agent answered %d: %s", session_id, upstream.status_code, body[:500])
        raise _agent_error(upstream.status_code, body, detail=runtime.config.agent_error_detail)
    answer_headers = {
        SESSION_HEADER: session_id,
        REQUEST_ID_HEADER: str(uuid.uuid4()),
        "content-type": upstream.headers.get("content-type", "application/json"),
    }

    async def close() -> None:
        await upstream.aclose()
        runtime.release(vm)

    return _ProxiedStream(relay(vm, upstream), answer_headers, close)


async def stop_runtime_session(request: Request) -> Response:
    """POST /runtimes/{agentRuntimeArn}/stopruntimesession: terminate the session's microVM."""
    arn = _check_target(request)
    session_id = _session_id(request, required=True)
    _runtime(request).stop_session(arn, session_id)
    return JSONResponse({}, headers={SESSION_HEADER: session_id, REQUEST_ID_HEADER: str(uuid.uuid4())})


async def sessions(request: Request) -> Response:
    """GET /sessions: the session table (emulator only)."""
    runtime = _runtime(request)
    return JSONResponse(
        {
            "idle_timeout_seconds": runtime.config.lifecycle.idle_timeout,
            "max_lifetime_seconds": runtime.config.lifecycle.max_lifetime,
            "sessions": runtime.table(),
        }
    )


async def _service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = "UnknownOperationException" if exc.status_code in (404, 405) else "BadRequest"
    message = f"No operation for {request.method} {request.url.path}"
    return JSONResponse(
        {"__type": code, "message": message, "error": {"code": code, "message": message}},
        status_code=exc.status_code,
        headers={"x-amzn-ErrorType": code},
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error serving %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(ServiceError("InternalServerException", "Internal error; see the emulator log"))


def build_app(runtime: Runtime) -> Starlette:
    """The ASGI app serving ``runtime``; starts and stops it with the app's lifespan.

    Under JWT auth the signing keys are loaded here, so a bad key source fails before serving
    (:class:`emulator.jwt_auth.JwtConfigError`).
    """
    jwt_config = runtime.config.jwt
    verifier = None if jwt_config is None else JwtVerifier(jwt_config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.close()

    app = Starlette(
        routes=[
            Route("/runtimes/{arn:path}/invocations", invoke_agent_runtime, methods=["POST"]),
            Route("/runtimes/{arn:path}/stopruntimesession", stop_runtime_session, methods=["POST"]),
            Route("/sessions", sessions, methods=["GET"]),
        ],
        exception_handlers={
            ServiceError: _service_error,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.jwt = verifier
    return app
