"""A loopback TCP proxy in front of a store (moto, redis-server) that can refuse, hang or slow
the connections through it, or (for HTTP stores) answer every request with a 500."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

Mode = Literal["pass", "refuse", "hang", "slow", "error"]
SLOW_SECONDS = 0.5
"""The delay ``slow`` adds to every chunk it forwards."""
CHUNK = 65536
HTTP_500 = (
    b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/x-amz-json-1.0\r\n"
    b"Content-Length: 85\r\nConnection: close\r\n\r\n"
    b'{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"nemesis"}'
)
"""What ``error`` answers every HTTP request with (an AWS service failing, not unreachable)."""


class Proxy:
    """Forwards ``127.0.0.1:port`` to ``upstream`` as its mode allows."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self._upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self.mode: Mode = "pass"
        self._changed = threading.Condition()
        self._open: set[socket.socket] = set()
        self._closed = False
        threading.Thread(target=self._accept, name="nemesis-proxy", daemon=True).start()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:port``."""
        return f"http://127.0.0.1:{self.port}"

    def set_mode(self, mode: Mode) -> None:
        """``refuse`` also cuts every open connection; ``hang`` holds them until the mode changes."""
        with self._changed:
            self.mode = mode
            if mode == "refuse":
                for sock in list(self._open):
                    _close(sock)
            self._changed.notify_all()

    def close(self) -> None:
        """Stop accepting and cut every connection."""
        self._closed = True
        self.set_mode("refuse")
        _close(self._listener)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.mode == "refuse":
                _close(client)
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self._upstream, timeout=5)
        except OSError:
            _close(client)
            return
        upstream.settimeout(None)
        with self._changed:
            self._open.update((client, upstream))
        threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()
        self._pump(client, upstream, requests=True)

    def _pump(self, source: socket.socket, target: socket.socket, *, requests: bool = False) -> None:
        try:
            while data := source.recv(CHUNK):
                if not self._wait_passable():
                    break
                if requests and self.mode == "error":
                    source.sendall(HTTP_500)
                    break
                if self.mode == "slow":
                    with self._changed:
                        self._changed.wait(SLOW_SECONDS)
                target.sendall(data)
        except OSError:
            pass
        finally:
            with self._changed:
                self._open.difference_update((source, target))
            _close(source)
            _close(target)

    def _wait_passable(self) -> bool:
        """Block while hanging; False when the connection must be cut."""
        with self._changed:
            while self.mode == "hang" and not self._closed:
                self._changed.wait()
            return self.mode != "refuse"


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


@contextmanager
def proxied(upstream: tuple[str, int]) -> Iterator[Proxy]:
    """A proxy to ``upstream`` until the block ends."""
    proxy = Proxy(upstream)
    try:
        yield proxy
    finally:
        proxy.close()
