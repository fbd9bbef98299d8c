"""moto in server mode whose requests take effect one at a time, as DynamoDB applies each
conditional write atomically.

moto checks a write's condition and stores the item in separate steps, with no lock between its
request threads, so two writes fenced on the same state can both pass: something real DynamoDB never
allows. The nemesis checks the agent's fencing, so its moto must not break fencing by itself.
Usage: ``python -m bench.atomic_moto -H HOST -p PORT``.
"""

from __future__ import annotations

import argparse
import io
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def one_at_a_time(app: Callable[..., Iterable[bytes]]) -> Callable[..., list[bytes]]:
    """``app`` with each request, its whole answer included, under one lock."""
    lock = threading.Lock()

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        # The body is read before the lock: a client that sends slowly holds up only itself.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length) if length else b"")
        with lock:
            return list(app(environ, start_response))

    return serve


def main(argv: list[str] | None = None) -> int:
    """Serve moto on HOST:PORT until stopped."""
    parser = argparse.ArgumentParser(prog="python -m bench.atomic_moto", description=__doc__)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args(argv)
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, one_at_a_time(app), threaded=True, request_handler=MotoRequestHandler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
