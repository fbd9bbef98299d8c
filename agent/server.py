"""uvicorn with two changes for SIGTERM: the engine drains before connections are waited for, and
the process exits within the stop grace whatever is still waiting.

uvicorn's graceful shutdown first waits for open requests, and only then runs the app's
shutdown. Pending long-polls would hold it for their whole wait while AgentCore's grace
period runs out. Draining first answers them and records the in-flight tasks.

A store that hangs or refuses would hold the rest (the writes of shutdown, then the interpreter
joining I/O threads stuck in a driver call) for as long as it stays down, and AgentCore kills
the process anyway after its grace. Exiting at our own deadline instead leaves what could not
be recorded to the lease, exactly as after a kill, and the last log line says so.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
from collections.abc import Awaitable, Callable
from types import FrameType

import uvicorn

from agentcore_async.contract import EnvVar

log = logging.getLogger("agent.server")
GRACE_RAN_OUT_EXIT_CODE = 1
"""The exit status when the stop grace ran out before shutdown finished."""


class AgentServer(uvicorn.Server):
    """A uvicorn server that awaits ``drain()`` as soon as it is told to exit, and is gone
    ``stop_grace_seconds`` after the first signal."""

    def __init__(
        self, config: uvicorn.Config, *, drain: Callable[[], Awaitable[None]], stop_grace_seconds: float
    ) -> None:
        super().__init__(config)
        self._drain = drain
        self._stop_grace_seconds = stop_grace_seconds
        self._deadline: threading.Timer | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """uvicorn's handler, which also starts the stop deadline on the first signal."""
        if self._deadline is None:
            self._deadline = threading.Timer(self._stop_grace_seconds, self._grace_ran_out)
            self._deadline.daemon = True  # a clean exit before the deadline does not wait for it
            self._deadline.start()
        super().handle_exit(sig, frame)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Drain the engine, then uvicorn's own shutdown (connections, then lifespan)."""
        await self._drain()
        await super().shutdown(sockets)

    def _grace_ran_out(self) -> None:
        log.warning(
            "stop grace ran out; exiting with work left to the lease",
            extra={"setting": EnvVar.STOP_GRACE_SECONDS, "seconds": self._stop_grace_seconds},
        )
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(GRACE_RAN_OUT_EXIT_CODE)
