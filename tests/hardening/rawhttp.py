"""Raw HTTP on loopback with full control over method, headers and body (for hostile input)."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Reply:
    """One HTTP response: status, raw body and the parsed JSON (None if it is not JSON)."""

    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or None."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def error_code(self) -> str | None:
        """``error.code`` of a ``{"error": {"code", "message"}}`` body."""
        value = self.json
        if isinstance(value, dict) and isinstance(value.get("error"), dict):
            code = value["error"].get("code")
            return code if isinstance(code, str) else None
        return None

    @property
    def error_message(self) -> str:
        """``error.message`` of an error body ("" when absent)."""
        value = self.json
        if isinstance(value, dict) and isinstance(value.get("error"), dict):
            return str(value["error"].get("message", ""))
        return ""

    def leaks_internals(self) -> bool:
        """True when the body looks like a traceback or carries exception text."""
        text = self.body.decode("utf-8", errors="replace")
        return "Traceback" in text or 'File "' in text or "Exception(" in text


def send(
    base_url: str,
    method: str,
    path: str,
    body: bytes | None = None,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
    chunked: bool = False,
) -> Reply:
    """Send one request exactly as given and return the reply (never raises on 4xx/5xx)."""
    parts = urlsplit(base_url)
    assert parts.hostname == "127.0.0.1", "hostile-input tests only ever target loopback"
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        if chunked and body is not None:
            connection.putrequest(method, path)
            for name, value in (headers or {}).items():
                connection.putheader(name, value)
            connection.putheader("Transfer-Encoding", "chunked")
            connection.endheaders()
            step = 16 * 1024
            for start in range(0, len(body), step):
                chunk = body[start : start + step]
                connection.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            connection.send(b"0\r\n\r\n")
        else:
            connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(
            status=response.status,
            body=response.read(),
            headers={name.lower(): value for name, value in response.getheaders()},
        )
    finally:
        connection.close()
