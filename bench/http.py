"""A minimal keep-alive HTTP/1.1 JSON client on asyncio streams.

The load driver shares two cores with the servers it measures, so it must cost as little CPU
per request as possible; a full-featured client would add its own overhead to every sample.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any

SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"


@dataclass(frozen=True)
class Response:
    """Status and decoded JSON body of one response."""

    status: int
    body: Any


class HttpError(RuntimeError):
    """The server closed the connection or answered something that is not HTTP/1.1."""


class HttpConnection:
    """One persistent connection to ``127.0.0.1:port``; reconnects when the server closes it."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self._port = port
        self._timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _ensure_open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self._port)
        return self._reader, self._writer

    async def request(
        self, method: str, path: str, payload: Any = None, headers: dict[str, str] | None = None
    ) -> Response:
        """Send one request and read the whole response."""
        return await asyncio.wait_for(self._request(method, path, payload, headers or {}), self._timeout)

    async def _request(self, method: str, path: str, payload: Any, headers: dict[str, str]) -> Response:
        reader, writer = await self._ensure_open()
        body = b"" if payload is None else json.dumps(payload).encode()
        head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
        if payload is not None:
            head.append("Content-Type: application/json")
        head.extend(f"{name}: {value}" for name, value in headers.items())
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()
        try:
            status, response_headers = await _read_head(reader)
            data = await _read_body(reader, response_headers)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            await self.close()
            raise HttpError("connection closed mid-response") from exc
        if response_headers.get("connection", "").lower() == "close":
            await self.close()
        return Response(status=status, body=json.loads(data) if data else None)

    async def close(self) -> None:
        """Close the connection (idempotent)."""
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    raw = await reader.readuntil(b"\r\n\r\n")
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise HttpError(f"not an HTTP/1.x status line: {lines[0]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return b"".join(chunks)
            chunks.append(chunk[:-2])
    return await reader.read()
