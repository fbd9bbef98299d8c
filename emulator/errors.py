"""Error responses in the AWS rest-json shape, so botocore raises the right ``ClientError``."""

from __future__ import annotations

import uuid
from typing import Final

from starlette.responses import JSONResponse

REQUEST_ID_HEADER: Final = "x-amzn-RequestId"

_STATUS: Final[dict[str, int]] = {
    "ValidationException": 400,
    "UnauthorizedException": 401,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "ConflictException": 409,
    "RuntimeClientError": 424,
    "ThrottlingException": 429,
    "InternalServerException": 500,
}


class ServiceError(Exception):
    """An error the emulated service reports to the caller; ``code`` is a modelled error shape."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        if code not in _STATUS:
            raise ValueError(f"unmodelled error code {code}")
        self.code = code
        self.message = message
        self.field = field

    @property
    def status(self) -> int:
        """The HTTP status the service model gives this error."""
        return _STATUS[self.code]


def error_response(error: ServiceError) -> JSONResponse:
    """Render ``error`` as botocore's rest-json parser expects it.

    The code travels in ``x-amzn-ErrorType`` and ``__type``; ``message`` and the modelled
    ``reason`` are body members. The project-wide ``{"error": {code, message}}`` object is
    included too for callers that are not botocore.
    """
    body: dict[str, object] = {"__type": error.code, "message": error.message}
    if error.code == "ValidationException":
        body["reason"] = "FieldValidationFailed" if error.field else "CannotParse"
        if error.field:
            body["fieldList"] = [{"name": error.field, "message": error.message}]
    body["error"] = {"code": error.code, "message": error.message}
    return JSONResponse(
        body,
        status_code=error.status,
        headers={"x-amzn-ErrorType": error.code, REQUEST_ID_HEADER: str(uuid.uuid4())},
    )
