"""Run the emulator's HTTP server, in the foreground or on a background thread."""

from __future__ import annotations

import threading
import time

import uvicorn

from emulator.app import build_app
from emulator.config import EmulatorConfig
from emulator.runtime import Runtime


def build_server(config: EmulatorConfig) -> uvicorn.Server:
    """The server for ``config``; raises :class:`emulator.jwt_auth.JwtConfigError` when the JWT
    signing keys cannot be loaded."""
    app = build_app(Runtime(config))
    return uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_level="warning",
            access_log=False,
            # Long-polls can hold connections for a minute; do not wait for them on shutdown.
            timeout_graceful_shutdown=2,
        )
    )


def serve(config: EmulatorConfig) -> None:
    """Serve until SIGINT/SIGTERM; every microVM is terminated on the way out."""
    build_server(config).run()


class BackgroundEmulator:
    """The emulator on a daemon thread (for the demo and in-process use)."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._server = build_server(config)
        self._thread = threading.Thread(target=self._server.run, name="emulator", daemon=True)

    @property
    def url(self) -> str:
        """The endpoint URL to hand to boto3."""
        return f"http://{self.config.host}:{self.config.port}"

    def start(self, timeout: float = 10.0) -> BackgroundEmulator:
        """Start serving and wait until the socket accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop serving; terminates every microVM before returning."""
        self._server.should_exit = True
        self._thread.join(timeout=30)

    def __enter__(self) -> BackgroundEmulator:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
