"""Servers on loopback that fail every request on purpose, and count what reached them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Counter:
    """Requests (or connections) a failing server received, by the operation they named."""

    port: int
    calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, what: str) -> None:
        with self.lock:
            self.calls.append(what)

    def count(self, what: str) -> int:
        with self.lock:
            return sum(1 for call in self.calls if call == what)


@contextmanager
def failing_aws(status: int = 500, code: str = "InternalServerError") -> Iterator[Counter]:
    """An HTTP server answering every AWS call with ``status`` and error ``code`` (by default 500
    InternalServerError, which clients retry)."""
    counter = Counter(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            counter.add(self.headers.get("X-Amz-Target", "POST").split(".")[-1])
            body = json.dumps({"__type": code, "message": "failing on purpose"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    counter.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield counter
    finally:
        server.shutdown()
        server.server_close()
