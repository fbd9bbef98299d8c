"""A test identity provider: an RSA key pair, tokens it signs, its JWKS and OIDC discovery document.

``issuer.jwks_file(dir)`` writes the keys for ``--jwt-jwks``; ``serving_discovery(issuer)`` serves
``/.well-known/openid-configuration`` and the JWKS on a loopback HTTP server for
``--jwt-discovery-url``, the way an identity provider publishes them.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

AUDIENCE: Final = "agentcore-async-tests"
ISSUER: Final = "https://issuer.example.test"
DISCOVERY_PATH: Final = "/.well-known/openid-configuration"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class LocalIssuer:
    """Signs tokens with its own key; ``kid`` names the key in the JWKS."""

    issuer: str = ISSUER
    audience: str = AUDIENCE
    key: rsa.RSAPrivateKey = field(default_factory=_key)
    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:16])

    def token(
        self,
        subject: str,
        *,
        audience: str | None = None,
        expires_in: float = 3600,
        key: rsa.RSAPrivateKey | None = None,
        issuer: str | None = None,
        **claims: Any,
    ) -> str:
        """A signed RS256 token for ``subject`` (override the audience, expiry, key or issuer to
        make a token the runtime must refuse)."""
        now = int(time.time())
        payload = {
            "sub": subject,
            "iss": issuer or self.issuer,
            "aud": audience or self.audience,
            "iat": now,
            "exp": int(now + expires_in),
            **claims,
        }
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": self.kid})

    def jwks(self) -> dict[str, Any]:
        """The public key as a JSON Web Key Set."""
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def jwks_file(self, directory: Path) -> Path:
        """Write the JWKS to ``directory/jwks.json`` and return its path."""
        path = directory / "jwks.json"
        path.write_text(json.dumps(self.jwks()))
        return path


def bearer(token: str) -> dict[str, str]:
    """The request header that carries ``token``."""
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Discovery:
    """A running discovery server: its ``url`` is what ``--jwt-discovery-url`` takes."""

    url: str
    requests: list[str]


@contextmanager
def serving_discovery(issuer: LocalIssuer) -> Iterator[Discovery]:
    """Serve the OIDC discovery document and the JWKS on loopback until the block ends."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            base = f"http://127.0.0.1:{port}"
            documents = {
                DISCOVERY_PATH: {"issuer": issuer.issuer, "jwks_uri": f"{base}/jwks.json"},
                "/jwks.json": issuer.jwks(),
            }
            body = json.dumps(documents[self.path]).encode() if self.path in documents else b"{}"
            self.send_response(200 if self.path in documents else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Discovery(url=f"http://127.0.0.1:{port}{DISCOVERY_PATH}", requests=seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
