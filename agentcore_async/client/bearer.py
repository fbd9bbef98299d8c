"""Calls to a runtime with a JWT authorizer: HTTPS with ``Authorization: Bearer``, not SigV4.

AWS's SDKs sign every call with SigV4, which a JWT runtime refuses ("Authorization method
mismatch"); the documented way is a plain HTTPS request to the same REST operation
(InvokeAgentRuntime API reference: "If you're integrating your agent with OAuth, you can't use the
AWS SDK to call InvokeAgentRuntime. Instead, make a HTTPS request"): ``POST
https://bedrock-agentcore.<region>.amazonaws.com/runtimes/<URL-encoded ARN>/invocations?qualifier=``
with the session id header. StopRuntimeSession takes bearer tokens the same way (its errors include
``UnauthorizedException``). :class:`BearerClient` offers the two methods :class:`client.AgentClient`
calls on a boto3 client, over botocore's own HTTP stack, and raises what botocore raises
(``ClientError`` for AWS's answers, ``EndpointConnectionError`` and friends for the transport), so
every error becomes the same typed error on both paths.
"""

from __future__ import annotations

import io
import json
import random
import time
import uuid
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import quote, urlencode

from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.httpsession import URLLib3Session

from agentcore_async.contract import BEARER_PREFIX, SESSION_HEADER

ATTEMPTS: Final = 3
"""Like the boto3 path's standard retry mode: throttling, AWS's transient failures and connections
that were never made are tried again, up to three attempts in all."""
RETRIED_CODES: Final = frozenset(
    {
        "ThrottlingException",
        "InternalServerException",
        "ServiceUnavailableException",
        "RetryableConflictException",
    }
)


def service_url(region: str, endpoint_url: str | None) -> str:
    """The data plane's base URL: the emulator's endpoint URL, else AgentCore's in ``region``."""
    return (endpoint_url or f"https://bedrock-agentcore.{region}.amazonaws.com").rstrip("/")


class BearerClient:
    """``invoke_agent_runtime`` and ``stop_runtime_session`` with a bearer token."""

    def __init__(
        self,
        *,
        token: str,
        base_url: str,
        read_timeout: float,
        connect_timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._authorization = BEARER_PREFIX + token
        self._base_url = base_url
        self._http = URLLib3Session(timeout=(connect_timeout, read_timeout))
        self._sleep = sleep

    def invoke_agent_runtime(
        self,
        *,
        agentRuntimeArn: str,
        payload: bytes,
        qualifier: str | None = None,
        runtimeSessionId: str | None = None,
        contentType: str = "application/json",
        accept: str = "application/json",
        traceParent: str | None = None,
        traceState: str | None = None,
        baggage: str | None = None,
    ) -> dict[str, Any]:
        """InvokeAgentRuntime; the answer in the shape boto3 gives it (``response`` is readable).
        The trace context goes in the W3C headers, where boto3 puts those parameters."""
        headers = {"Content-Type": contentType, "Accept": accept}
        if runtimeSessionId is not None:
            headers[SESSION_HEADER] = runtimeSessionId
        trace = {"traceparent": traceParent, "tracestate": traceState, "baggage": baggage}
        headers.update({name: value for name, value in trace.items() if value})
        answer = self._call(
            "InvokeAgentRuntime",
            agentRuntimeArn,
            path="invocations",
            qualifier=qualifier,
            headers=headers,
            body=payload,
        )
        return {
            "response": io.BytesIO(answer.content),
            "contentType": answer.headers.get("content-type", "application/json"),
            "runtimeSessionId": answer.headers.get(SESSION_HEADER),
            "statusCode": answer.status_code,
        }

    def stop_runtime_session(
        self,
        *,
        agentRuntimeArn: str,
        runtimeSessionId: str,
        qualifier: str | None = None,
    ) -> dict[str, Any]:
        """StopRuntimeSession (with a fresh client token, as boto3 fills in)."""
        headers = {"Content-Type": "application/json", SESSION_HEADER: runtimeSessionId}
        body = json.dumps({"clientToken": str(uuid.uuid4())}).encode()
        answer = self._call(
            "StopRuntimeSession",
            agentRuntimeArn,
            path="stopruntimesession",
            qualifier=qualifier,
            headers=headers,
            body=body,
        )
        return {"runtimeSessionId": answer.headers.get(SESSION_HEADER), "statusCode": answer.status_code}

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def _call(
        self,
        operation: str,
        arn: str,
        *,
        path: str,
        qualifier: str | None,
        headers: dict[str, str],
        body: bytes,
    ) -> AWSResponse:
        url = f"{self._base_url}/runtimes/{quote(arn, safe='')}/{path}"
        if qualifier is not None:
            url += "?" + urlencode({"qualifier": qualifier})
        request = AWSRequest(
            method="POST", url=url, data=body, headers={**headers, "Authorization": self._authorization}
        )
        for attempt in range(1, ATTEMPTS + 1):
            try:
                answer = self._http.send(request.prepare())
            except EndpointConnectionError:  # never connected: nothing was delivered
                if attempt == ATTEMPTS:
                    raise
            else:
                if answer.status_code < 300:
                    return answer
                error = _client_error(operation, answer)
                if attempt == ATTEMPTS or error.response["Error"]["Code"] not in RETRIED_CODES:
                    raise error
            self._sleep(random.uniform(0, 0.5 * 2**attempt))
        raise AssertionError("unreachable")


def _client_error(operation: str, answer: AWSResponse) -> ClientError:
    """A ``ClientError`` like botocore's rest-json parser makes of an error answer."""
    code = answer.headers.get("x-amzn-ErrorType", "").split(":", 1)[0]
    message = ""
    try:
        body = json.loads(answer.content or b"{}")
    except ValueError:
        body = {}
    if isinstance(body, dict):
        code = code or str(body.get("__type", body.get("code", ""))).rsplit("#", 1)[-1]
        message = str(body.get("message", body.get("Message", "")))
    error = {"Code": code or f"HTTP{answer.status_code}", "Message": message}
    return ClientError(
        {"Error": error, "ResponseMetadata": {"HTTPStatusCode": answer.status_code}}, operation
    )
