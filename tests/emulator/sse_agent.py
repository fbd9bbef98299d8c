"""A minimal agent container that streams Server-Sent Events, to check the emulator streams through.

Run as ``python tests/emulator/sse_agent.py``; it serves on ``PORT`` like the real agent.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

EVENTS = 4
GAP_SECONDS = 0.4
STARTED = int(time.time())


async def ping(request: Request) -> Response:
    return JSONResponse({"status": "Healthy", "time_of_last_update": STARTED})


async def invocations(request: Request) -> Response:
    session = request.headers.get("x-amzn-bedrock-agentcore-runtime-session-id", "")

    async def events() -> AsyncIterator[bytes]:
        for index in range(EVENTS):
            if index:
                await asyncio.sleep(GAP_SECONDS)
            data = {"index": index, "sent_at": time.time(), "session": session}
            yield f"data: {json.dumps(data)}\n\n".encode()

    return StreamingResponse(events(), media_type="text/event-stream")


app = Starlette(routes=[Route("/ping", ping), Route("/invocations", invocations, methods=["POST"])])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning")
