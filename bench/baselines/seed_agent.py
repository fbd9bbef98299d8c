"""The seed post's agent, as written there, behind the same payload API as ours.

A ``BedrockAgentCoreApp``; ``start_background_task`` registers an async task, starts one
``threading.Thread`` that sleeps ``duration`` seconds, writes the result with one blocking store
call and completes the async task; ``get_task_result`` reads the store and says RUNNING until the
item exists ("still running or not found"). Nothing is written before the task finishes and the
thread has no ``finally``: that is the seed's pattern, kept so the benchmarks compare against it.

The seed's entrypoint hands a prompt to a model whose tools are these two functions; the
benchmarks call the tools directly through ``action`` payloads, as they do on our agent.

Run: ``python -m bench.baselines.seed_agent`` (``PORT``, store settings as for our agent).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from typing import Any

from bedrock_agentcore.runtime import BedrockAgentCoreApp
from starlette.responses import JSONResponse

from agentcore_async.contract import EnvVar
from bench.baselines.seed_store import SeedStore, store_from_env

LOCAL_SESSION = "local-session-without-runtime-session-id-header"
MAX_DURATION_SECONDS = 28800.0


class SeedAgent:
    """The seed's two tools over one store, reachable as payload actions."""

    def __init__(self, store: SeedStore) -> None:
        self.store = store
        self.app = BedrockAgentCoreApp()
        self.app.entrypoint(self.handle)

    def start_background_task(self, session_id: str, duration: float) -> str:
        """Start one thread that works ``duration`` seconds then stores its result."""
        task_id = str(uuid.uuid4())
        app_task = self.app.add_async_task("processing")  # Status -> HealthyBusy

        def background_work() -> None:
            time.sleep(duration)  # Do actual work here
            self.store.put(session_id, task_id, duration, f"Task completed after {duration}s")
            self.app.complete_async_task(app_task)  # Status -> Healthy

        threading.Thread(target=background_work).start()
        return task_id

    def get_task_result(self, session_id: str, task_id: str) -> dict[str, Any]:
        """COMPLETED with the stored result, else RUNNING (the seed cannot tell "not found")."""
        item = self.store.get(session_id, task_id)
        if item is None:
            return {"task_id": task_id, "status": "RUNNING"}
        return {"task_id": task_id, "status": "COMPLETED", **item}

    def handle(self, payload: Any, context: Any) -> dict[str, Any] | JSONResponse:
        """The entrypoint: dispatch an ``action`` payload."""
        session_id = getattr(context, "session_id", None) or LOCAL_SESSION
        action = payload.get("action") if isinstance(payload, dict) else None
        if action == "start_background_task":
            duration = payload.get("duration")
            if not isinstance(duration, int | float) or not 0 < duration <= MAX_DURATION_SECONDS:
                return _error("InvalidDuration", f"duration must be in (0, {MAX_DURATION_SECONDS:g}] seconds")
            task_id = self.start_background_task(session_id, float(duration))
            return {"task_id": task_id, "status": "RUNNING"}
        if action == "get_task_result":
            task_id = payload.get("task_id")
            if not isinstance(task_id, str):
                return _error("InvalidTaskId", "task_id must be a string")
            return self.get_task_result(session_id, task_id)
        return _error("UnknownAction", "action must be start_background_task or get_task_result")


def _error(code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=400)


def main() -> None:
    """Serve the seed agent on 127.0.0.1:$PORT (default 8080)."""
    agent = SeedAgent(store_from_env())
    agent.app.run(port=int(os.environ.get(EnvVar.PORT, "8080")), host="127.0.0.1")


if __name__ == "__main__":
    main()
