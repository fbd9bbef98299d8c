"""uvicorn with one change: on SIGTERM the engine drains before connections are waited for.

uvicorn's graceful shutdown first waits for open requests, and only then runs the app's
shutdown. Pending long-polls would hold it for their whole wait while AgentCore's grace
period runs out. Draining first answers them and records the in-flight tasks.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable

import uvicorn


class AgentServer(uvicorn.Server):
    """A uvicorn server that awaits ``drain()`` as soon as it is told to exit."""

    def __init__(self, config: uvicorn.Config, *, drain: Callable[[], Awaitable[None]]) -> None:
        super().__init__(config)
        self._drain = drain

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Drain the engine, then uvicorn's own shutdown (connections, then lifespan)."""
        await self._drain()
        await super().shutdown(sockets)
