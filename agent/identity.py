"""Who is calling: the subject of the bearer token AgentCore verified before the call reached us.

With a JWT authorizer, AgentCore Runtime validates the token (signature against the issuer's keys,
expiry, audience or client) and refuses the call with ``UnauthorizedException`` before anything
reaches the container; the runtime allowlists ``Authorization`` so the verified token arrives here.
The agent therefore reads the ``sub`` claim without checking the signature again: the container
has no inbound address of its own (no listener outside AgentCore in ``PUBLIC`` mode, a security
group without ingress rules in ``VPC`` mode), and the VPC stages have no route to the issuer's keys
anyway. What it does insist on is a token at all: in JWT mode a call without one is refused rather
than served as nobody's, so a missing allowlist entry can never make tasks shared.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Final

from agent.errors import ApiError
from agentcore_async.contract import BEARER_PREFIX

MAX_SUBJECT_CHARS: Final = 1024


def unauthenticated(message: str) -> ApiError:
    """The caller's identity is missing or unreadable (only possible when AgentCore was bypassed)."""
    return ApiError("Unauthenticated", message)


def token_subject(authorization: str | None) -> str:
    """The ``sub`` claim of ``Authorization: Bearer <JWT>``; raises :func:`unauthenticated` otherwise."""
    if authorization is None or not authorization.startswith(BEARER_PREFIX):
        raise unauthenticated("this runtime needs the caller's bearer token (Authorization header)")
    parts = authorization[len(BEARER_PREFIX) :].strip().split(".")
    if len(parts) != 3:  # header.payload.signature
        raise unauthenticated("the bearer token is not a JWT")
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        raise unauthenticated("the bearer token's claims are not readable") from None
    subject = claims.get("sub") if isinstance(claims, dict) else None
    if not isinstance(subject, str) or not subject or len(subject) > MAX_SUBJECT_CHARS:
        raise unauthenticated("the bearer token has no subject (sub claim)")
    return subject
