"""An agent container whose answers each test scripts through its payload.

Run as ``python tests/emulator/scripted_agent.py``; it serves on ``PORT`` like the real agent.

- ``{"answer": {"status": 503, "body": {...}}}`` answers with that status and JSON body.
- ``{"ping": {"status": "HealthyBusy", "with_update_time": false}}`` sets what ``/ping`` reports
  from now on; with ``with_update_time`` the ping carries ``time_of_last_update`` (the moment of
  this call, as unix seconds), without it the field is left out.
- ``{"echo_headers": ["traceparent", ...]}`` answers with the value of each named request header
  (null when it did not arrive).
- ``{"seen_headers": ["traceparent", ...]}`` answers, for every earlier invocation of this process
  that scripted no ping, echo or seen (oldest first), the value of each named header it carried:
  what a caller that cannot script its payload (the CLI) sent.
"""

from __future__ import annotations

import os
import time
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

_ping: dict[str, Any] = {"status": "Healthy", "time_of_last_update": int(time.time())}
_seen: list[dict[str, str]] = []


async def ping(request: Request) -> Response:
    return JSONResponse(_ping)


async def invocations(request: Request) -> Response:
    script = await request.json()
    if "ping" in script:
        _ping.clear()
        _ping["status"] = script["ping"]["status"]
        if script["ping"].get("with_update_time", True):
            _ping["time_of_last_update"] = int(time.time())
        return JSONResponse({"ping": dict(_ping)})
    if "echo_headers" in script:
        return JSONResponse({name: request.headers.get(name) for name in script["echo_headers"]})
    if "seen_headers" in script:
        return JSONResponse([{name: seen.get(name) for name in script["seen_headers"]} for seen in _seen])
    _seen.append(dict(request.headers))
    answer = script.get("answer", {})
    return JSONResponse(answer.get("body", {}), status_code=int(answer.get("status", 200)))


app = Starlette(routes=[Route("/ping", ping), Route("/invocations", invocations, methods=["POST"])])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning")
