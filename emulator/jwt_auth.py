"""Inbound JWT authorization, as an AgentCore runtime with a ``customJWTAuthorizer`` does it.

AgentCore validates the bearer token before a call reaches the container: the signature against
the keys the discovery URL names, the expiry, ``aud`` against ``allowedAudience`` and ``client_id``
against ``allowedClients`` (developer guide, "Configure inbound JWT authorizer"). A token that is
missing or fails any check is ``UnauthorizedException``, HTTP 401: "This exception is thrown when
the JWT bearer token is invalid or not found for OAuth bearer token based access" (AgentCore data
plane API reference and service model). A SigV4-signed call to a JWT runtime, and a bearer token
sent to an IAM runtime, are refused with ``AccessDeniedException`` "Authorization method
mismatch ..." (what AWS answers; quoted in aws/agentcore-cli issue #814 and pull request #1647).
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jwt

from agentcore_async.contract import BEARER_PREFIX
from emulator.errors import ServiceError

ALGORITHMS: Final = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512")
SIGV4_PREFIX: Final = "AWS4-HMAC-SHA256"
METHOD_MISMATCH: Final = (
    "Authorization method mismatch. The agent is configured for a different authorization method "
    "than what was used in your request. Check the agent's authorization configuration and ensure "
    "your request uses the matching method (OAuth or SigV4)"
)
FETCH_TIMEOUT: Final = 5.0


class JwtConfigError(ValueError):
    """The keys or the discovery document cannot be read."""


@dataclass(frozen=True, kw_only=True)
class JwtAuth:
    """The runtime's ``customJWTAuthorizer``: where its keys come from and what it accepts."""

    jwks_file: Path | None = None
    discovery_url: str | None = None
    audiences: tuple[str, ...] = ()
    clients: tuple[str, ...] = ()
    issuer: str | None = None

    def problem(self) -> str | None:
        """Why this configuration cannot work, or None."""
        if (self.jwks_file is None) == (self.discovery_url is None):
            return "JWT mode needs exactly one of --jwt-jwks FILE and --jwt-discovery-url URL"
        if self.discovery_url is not None and not self.discovery_url.endswith(
            "/.well-known/openid-configuration"
        ):
            return "--jwt-discovery-url must end with /.well-known/openid-configuration"
        if not self.audiences and not self.clients:
            return "JWT mode needs --jwt-audience or --jwt-client (what the authorizer accepts)"
        return None


def unauthorized(message: str) -> ServiceError:
    """AgentCore's answer to a missing or invalid bearer token."""
    return ServiceError("UnauthorizedException", message)


def _fetch_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:
        return json.loads(response.read())


class JwtVerifier:
    """Checks the ``Authorization`` header of one call; loads the keys once, at start-up."""

    def __init__(self, auth: JwtAuth) -> None:
        """Read the JWKS file, or the discovery document and the JWKS it names; raises
        :class:`JwtConfigError` when they cannot be read, so the emulator does not start."""
        self._auth = auth
        self._issuer = auth.issuer
        try:
            if auth.jwks_file is not None:
                jwks = json.loads(auth.jwks_file.read_text(encoding="utf-8"))
            else:
                assert auth.discovery_url is not None
                discovery = _fetch_json(auth.discovery_url)
                self._issuer = self._issuer or discovery.get("issuer")
                jwks = _fetch_json(str(discovery["jwks_uri"]))
            self._keys = jwt.PyJWKSet.from_dict(jwks)
        except (OSError, ValueError, KeyError, TypeError, jwt.PyJWKError, jwt.PyJWKSetError) as exc:
            raise JwtConfigError(f"cannot load the JWT signing keys: {exc}") from None

    @property
    def issuer(self) -> str | None:
        """The issuer tokens must name (from ``--jwt-issuer`` or the discovery document)."""
        return self._issuer

    def subject(self, authorization: str | None) -> str:
        """The verified token's subject; raises the :class:`ServiceError` AgentCore would answer."""
        if authorization is None or not authorization.strip():
            raise unauthorized("Missing Bearer token in the Authorization header")
        if authorization.startswith(SIGV4_PREFIX):
            raise ServiceError("AccessDeniedException", METHOD_MISMATCH)
        if not authorization.startswith(BEARER_PREFIX):
            raise unauthorized("The Authorization header is not a Bearer token")
        token = authorization[len(BEARER_PREFIX) :].strip()
        claims = self._verified(token)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise unauthorized("The bearer token has no subject")
        return subject

    def _verified(self, token: str) -> dict[str, Any]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = next((k for k in self._keys.keys if kid is None or k.key_id == kid), None)
            if key is None:
                raise unauthorized("The bearer token is signed with an unknown key")
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                audience=list(self._auth.audiences) or None,
                issuer=self._issuer,
                options={"require": ["exp"], "verify_aud": bool(self._auth.audiences)},
            )
        except jwt.ExpiredSignatureError:
            raise unauthorized("The bearer token has expired") from None
        except jwt.InvalidAudienceError:
            raise unauthorized("Token audience mismatch") from None
        except jwt.InvalidIssuerError:
            raise unauthorized("Token issuer mismatch") from None
        except jwt.InvalidSignatureError:
            raise unauthorized("The bearer token's signature is not valid") from None
        except jwt.PyJWTError as exc:
            raise unauthorized(f"The bearer token is not valid ({type(exc).__name__})") from None
        if self._auth.clients and claims.get("client_id") not in self._auth.clients:
            raise unauthorized("Claim 'client_id' mismatch")
        return claims


def method_mismatch_without_jwt(authorization: str | None) -> None:
    """An IAM runtime refuses a bearer token (the mismatch cuts both ways)."""
    if authorization is not None and authorization.startswith(BEARER_PREFIX):
        raise ServiceError("AccessDeniedException", METHOD_MISMATCH)
