"""A TCP proxy on loopback that can swallow a reply (the request reaches the server, the answer never
reaches the client), swallow every reply to one kind of request for a while, refuse every request
of one kind (the server never sees it) until told to stop, or hold every request of one kind
unanswered (a hung server).

That is what a flaky network does to a write whose response times out: the server applied it, the
client retries it. Works for any request/response protocol (HTTP to moto, RESP to redis-server)::

    with reply_dropper(upstream_port) as proxy:
        proxy.drop_reply_to(b"DynamoDB_20120810.PutItem")   # arm once
        ...                                                 # point the client at proxy.port
        assert proxy.dropped == 1

        proxy.drop_every_reply_to(b"DynamoDB_20120810.PutItem")   # every write lands, none is answered
        ...
        proxy.stop_dropping()
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

CHUNK = 65536


@dataclass
class ReplyDropper:
    """Forwards bytes both ways; when armed, the first request containing the marker is delivered and
    its connection is cut as soon as the server starts to answer (while dropping every reply: each such
    request)."""

    upstream_port: int
    port: int = 0
    dropped: int = 0
    refused: int = 0
    held: int = 0
    _marker: bytes | None = None
    _every: bytes | None = None
    _refuse: bytes | None = None
    _hold: bytes | None = None
    _released: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _listener: socket.socket | None = None
    _sockets: list[socket.socket] = field(default_factory=list)

    def drop_reply_to(self, marker: bytes) -> None:
        """Swallow the reply to the next request whose bytes contain ``marker``."""
        with self._lock:
            self._marker = marker

    def drop_every_reply_to(self, marker: bytes) -> None:
        """Until :meth:`stop_dropping`, deliver every request whose bytes contain ``marker`` and swallow
        its reply: the server applies each attempt, the client sees each one fail."""
        with self._lock:
            self._every = marker

    def stop_dropping(self) -> None:
        """Answer requests normally again (undoes :meth:`drop_every_reply_to`)."""
        with self._lock:
            self._every = None

    def refuse_every(self, marker: bytes) -> None:
        """From now on, cut the connection of every request containing ``marker`` before it is
        delivered (the server never sees it): a store that fails that operation every time."""
        with self._lock:
            self._refuse = marker

    def stop_refusing(self) -> None:
        """Deliver every request again (undoes :meth:`refuse_every`): the store is back."""
        with self._lock:
            self._refuse = None

    def hold_every(self, marker: bytes) -> None:
        """Until :meth:`release`, keep every request containing ``marker`` on an open connection,
        neither delivered nor answered: a store that accepts connections and never replies."""
        with self._lock:
            self._hold = marker
            self._released.clear()

    def release(self) -> None:
        """Stop holding (undoes :meth:`hold_every`); the held connections are cut."""
        with self._lock:
            self._hold = None
            self._released.set()

    def _holds(self, chunk: bytes) -> bool:
        with self._lock:
            if self._hold is not None and self._hold in chunk:
                self.held += 1
                return True
            return False

    def _refuses(self, chunk: bytes) -> bool:
        with self._lock:
            if self._refuse is not None and self._refuse in chunk:
                self.refused += 1
                return True
            return False

    def _take_marker(self, chunk: bytes) -> bool:
        with self._lock:
            if self._every is not None and self._every in chunk:
                return True
            if self._marker is not None and self._marker in chunk:
                self._marker = None
                return True
            return False

    def serve(self) -> None:
        """Accept connections until closed (runs on its own thread)."""
        assert self._listener is not None
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            self._sockets += [client, upstream]
            cut = threading.Event()
            threading.Thread(target=self._requests, args=(client, upstream, cut), daemon=True).start()
            threading.Thread(target=self._replies, args=(upstream, client, cut), daemon=True).start()

    def _requests(self, client: socket.socket, upstream: socket.socket, cut: threading.Event) -> None:
        with contextlib.suppress(OSError):
            while chunk := client.recv(CHUNK):
                if self._refuses(chunk):
                    break
                if self._holds(chunk):
                    self._released.wait()
                    break
                if self._take_marker(chunk):
                    cut.set()
                upstream.sendall(chunk)
        _close(client, upstream)

    def _replies(self, upstream: socket.socket, client: socket.socket, cut: threading.Event) -> None:
        with contextlib.suppress(OSError):
            while chunk := upstream.recv(CHUNK):
                if cut.is_set():
                    # The server has applied the request and answered: the client never hears of it.
                    with self._lock:
                        self.dropped += 1
                    break
                client.sendall(chunk)
        _close(client, upstream)

    def close(self) -> None:
        """Stop accepting (shutdown wakes the accepting thread) and cut every connection."""
        self.release()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
        _close(*self._sockets)


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()


@contextmanager
def reply_dropper(upstream_port: int) -> Iterator[ReplyDropper]:
    """A :class:`ReplyDropper` on a free loopback port for the duration of the block."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    proxy = ReplyDropper(upstream_port=upstream_port, port=int(listener.getsockname()[1]))
    proxy._listener = listener
    thread = threading.Thread(target=proxy.serve, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.close()
        thread.join(timeout=5)
