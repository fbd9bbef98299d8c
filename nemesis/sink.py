"""A stand-in for the EventBridge and Step Functions endpoints: records every PutEvents entry and
every task-token callback, and can fail or hang on demand."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from nemesis.history import Announcement

Mode = Literal["ok", "fail", "hang"]
HANG_LIMIT_SECONDS = 30.0
"""A hanging answer gives up after this long (the agent's own timeout is far shorter)."""


class Sink:
    """The stand-in's state: its mode and where announcements go."""

    def __init__(self, record: Callable[[Announcement], None], clock: Callable[[], float]) -> None:
        self.mode: Mode = "ok"
        self._record = record
        self._clock = clock
        self._healed = threading.Event()
        self.url = ""

    def set_mode(self, mode: Mode) -> None:
        """Answer every later call this way (``hang`` holds calls until the mode changes)."""
        self.mode = mode
        if mode == "hang":
            self._healed.clear()
        else:
            self._healed.set()

    def handle(self, target: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Record the call, then answer as the mode says."""
        mode = self.mode
        if mode == "hang":
            self._healed.wait(HANG_LIMIT_SECONDS)
            return 500, {"__type": "InternalException", "message": "the stand-in hung"}
        accepted = mode == "ok"
        operation = target.rsplit(".", 1)[-1]
        if operation == "PutEvents":
            entries = body.get("Entries", [])
            for entry in entries:
                self._record(self._event(entry, accepted))
            if not accepted:
                return 500, {"__type": "InternalException", "message": "the stand-in is failing"}
            ids = [{"EventId": f"stand-in-{i}"} for i, _ in enumerate(entries)]
            return 200, {"FailedEntryCount": 0, "Entries": ids}
        if operation in ("SendTaskSuccess", "SendTaskFailure"):
            self._record(self._callback(operation, body, accepted))
            if not accepted:
                return 500, {"__type": "ServiceUnavailable", "message": "the stand-in is failing"}
            return 200, {}
        return 400, {"__type": "UnknownOperationException", "message": f"not served: {target}"}

    def _event(self, entry: dict[str, Any], accepted: bool) -> Announcement:
        detail = json.loads(entry.get("Detail", "{}"))
        return Announcement(
            at=self._clock(),
            channel="event",
            task_id=str(detail.get("task_id")),
            attempt=detail.get("attempt"),
            status=str(detail.get("status")),
            event_id=detail.get("event_id"),
            content=detail,
            accepted=accepted,
        )

    def _callback(self, operation: str, body: dict[str, Any], accepted: bool) -> Announcement:
        if operation == "SendTaskSuccess":
            detail = json.loads(body.get("output", "{}"))
            status = str(detail.get("status"))
        else:
            detail = {"error": body.get("error"), "cause": body.get("cause")}
            status = str(body.get("error"))
        return Announcement(
            at=self._clock(),
            channel="callback",
            task_id=str(body.get("taskToken")),
            attempt=detail.get("attempt"),
            status=status,
            event_id=detail.get("event_id"),
            content=detail,
            accepted=accepted,
        )


def _handler(sink: Sink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                body = {}
            status, answer = sink.handle(self.headers.get("X-Amz-Target", ""), body)
            data = json.dumps(answer).encode()
            with contextlib.suppress(OSError):
                self._answer(status, data)

        def _answer(self, status: int, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def running_sink(record: Callable[[Announcement], None], clock: Callable[[], float]) -> Iterator[Sink]:
    """The stand-in on a free loopback port until the block ends."""
    sink = Sink(record, clock)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(sink))
    server.daemon_threads = True
    sink.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="nemesis-sink", daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        sink.set_mode("ok")
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        time.sleep(0)  # let handler threads see the healed mode
