"""Why a call failed: typed errors carrying the agent's or AWS's code and message.

The agent answers application errors in a 2xx answer, ``{"error": {"code", "message"}}``,
because AgentCore drops the body of a non-2xx container answer. AWS errors arrive as
botocore ``ClientError``; transport failures as other ``BotoCoreError``.
"""

from __future__ import annotations

import re
from typing import Final

from botocore import exceptions as botocore_errors


class AgentError(Exception):
    """A call failed. ``code`` and ``message`` are the agent's or AWS's; ``retryable`` says whether
    the same call may succeed later (``wait`` retries those, with backoff)."""

    retryable_by_default: bool = False

    def __init__(self, code: str, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = self.retryable_by_default if retryable is None else retryable


class InvalidInput(AgentError):
    """The agent refused the request: a field, the payload, the action, its size or media type."""


class TaskNotFound(AgentError):
    """No such task in this session (another session's tasks are invisible)."""


class ClientTokenConflict(AgentError):
    """The client token was used before with other parameters."""


class StorageUnavailable(AgentError):
    """The agent cannot reach its store right now; nothing was lost."""

    retryable_by_default = True


class ShuttingDown(AgentError):
    """The call reached a microVM that is stopping; the next call reaches a new one."""

    retryable_by_default = True


class AgentFailed(AgentError):
    """The agent itself failed (it answered non-2xx; AgentCore relays only the status number)."""


class RuntimeUnavailable(AgentError):
    """The runtime could not get an answer from the session's microVM (for example while it ends
    and the next one starts)."""

    retryable_by_default = True


class ServiceError(AgentError):
    """AWS (or the emulator acting as AWS) refused the call."""


class RequestInvalid(ServiceError):
    """``ValidationException``: the request itself is malformed (for example the session id)."""


class ResourceNotFound(ServiceError):
    """``ResourceNotFoundException``: no such runtime or endpoint."""


class AccessDenied(ServiceError):
    """``AccessDeniedException``: the caller may not invoke this runtime (also SigV4 against a JWT
    runtime, or a bearer token against an IAM one: "Authorization method mismatch")."""


class Unauthorized(ServiceError):
    """``UnauthorizedException``: the runtime's JWT authorizer found no valid bearer token (none,
    expired, another audience or client, a bad signature)."""


class Throttled(ServiceError):
    """``ThrottlingException``: too many requests; retry later."""

    retryable_by_default = True


class ServiceUnavailable(ServiceError):
    """AWS had a transient failure of its own; retry later."""

    retryable_by_default = True


class ConnectionFailed(AgentError):
    """The endpoint could not be reached, or the connection broke before a whole answer came."""

    retryable_by_default = True


class ConfigurationError(AgentError):
    """The client cannot sign or send the call (for example no AWS credentials)."""


class BadAnswer(AgentError):
    """The answer was not what the payload API promises."""


AGENT_CODES: Final[dict[str, type[AgentError]]] = {
    "InvalidField": InvalidInput,
    "InvalidPayload": InvalidInput,
    "UnknownAction": InvalidInput,
    "PayloadTooLarge": InvalidInput,
    "UnsupportedMediaType": InvalidInput,
    "UnknownKind": InvalidInput,
    "TaskNotFound": TaskNotFound,
    "ClientTokenConflict": ClientTokenConflict,
    "StorageUnavailable": StorageUnavailable,
    "ShuttingDown": ShuttingDown,
}
SERVICE_CODES: Final[dict[str, type[ServiceError]]] = {
    "ValidationException": RequestInvalid,
    "ResourceNotFoundException": ResourceNotFound,
    "AccessDeniedException": AccessDenied,
    "UnauthorizedException": Unauthorized,
    "ThrottlingException": Throttled,
    "InternalServerException": ServiceUnavailable,
    "ServiceUnavailable": ServiceUnavailable,
    "ServiceUnavailableException": ServiceUnavailable,
    "RetryableConflictException": ServiceUnavailable,
}
AGENT_ANSWERED: Final = re.compile(r"Received error \(\d+\) from runtime")
"""How AgentCore reports a container's non-2xx answer; every other RuntimeClientError means the
runtime got no answer from the microVM at all."""


def agent_error(code: str, message: str) -> AgentError:
    """The error for an agent's ``{"error": {"code", "message"}}`` answer."""
    return AGENT_CODES.get(code, AgentError)(code, message)


def service_error(code: str, message: str) -> AgentError:
    """The error for an AWS error code (``ClientError``)."""
    if code == "RuntimeClientError":
        failed = AGENT_ANSWERED.match(message) is not None
        return (AgentFailed if failed else RuntimeUnavailable)(code, message)
    return SERVICE_CODES.get(code, ServiceError)(code, message)


def transport_error(error: botocore_errors.BotoCoreError) -> AgentError:
    """The error for a botocore failure that is not an AWS answer."""
    code = type(error).__name__
    broken = (
        botocore_errors.ConnectionError,  # no connection at all
        botocore_errors.HTTPClientError,  # reset, timed out or cut off mid-answer
        botocore_errors.IncompleteReadError,  # fewer bytes than the answer announced
    )
    if isinstance(error, broken):
        return ConnectionFailed(code, str(error))
    return ConfigurationError(code, str(error))
