"""Load drivers over HTTP: timed invocations (sequential and concurrent) and ping sampling."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from bench.http import SESSION_HEADER, HttpConnection, Response

Payload = Callable[[int], dict[str, Any]]


class UnexpectedResponse(RuntimeError):
    """An invocation the benchmark relies on did not succeed."""


def _check(response: Response) -> Response:
    # Agent errors arrive as HTTP 200 with an error-only body (what reaches AgentCore callers).
    body = response.body
    refused = isinstance(body, dict) and set(body) == {"error"}
    if response.status != 200 or refused:
        raise UnexpectedResponse(f"HTTP {response.status}: {body!r}")
    return response


async def invoke(conn: HttpConnection, session_id: str, payload: dict[str, Any]) -> Any:
    """One successful ``POST /invocations`` in a session; its JSON body."""
    response = await conn.request("POST", "/invocations", payload, {SESSION_HEADER: session_id})
    return _check(response).body


async def timed_sequential(port: int, session_id: str, count: int, payload: Payload) -> list[float]:
    """Latency (ms) of ``count`` invocations one after another on one keep-alive connection."""
    conn = HttpConnection(port)
    samples: list[float] = []
    try:
        for i in range(count):
            started = time.perf_counter()
            await invoke(conn, session_id, payload(i))
            samples.append((time.perf_counter() - started) * 1000.0)
    finally:
        await conn.close()
    return samples


async def timed_concurrent(
    port: int, session_id: str, clients: int, per_client: int, payload: Payload
) -> list[float]:
    """Latency (ms) of invocations from ``clients`` concurrent connections, ``per_client`` each."""
    barrier = asyncio.Event()

    async def client(index: int) -> list[float]:
        conn = HttpConnection(port)
        samples: list[float] = []
        try:
            await conn.request("GET", "/ping")  # connect before the clock starts
            await barrier.wait()
            for i in range(per_client):
                started = time.perf_counter()
                await invoke(conn, session_id, payload(index * per_client + i))
                samples.append((time.perf_counter() - started) * 1000.0)
        finally:
            await conn.close()
        return samples

    tasks = [asyncio.create_task(client(i)) for i in range(clients)]
    await asyncio.sleep(0.05)
    barrier.set()
    results = await asyncio.gather(*tasks)
    return [sample for samples in results for sample in samples]


async def ping_samples(
    port: int, count: int, spacing: float, max_seconds: float = 60.0
) -> tuple[list[float], set[str]]:
    """Up to ``count`` pings ``spacing`` seconds apart within ``max_seconds``: latencies (ms), statuses."""
    conn = HttpConnection(port)
    samples: list[float] = []
    statuses: set[str] = set()
    deadline = time.monotonic() + max_seconds
    try:
        while len(samples) < count and time.monotonic() < deadline:
            started = time.perf_counter()
            response = _check(await conn.request("GET", "/ping"))
            samples.append((time.perf_counter() - started) * 1000.0)
            statuses.add(str(response.body.get("status")))
            await asyncio.sleep(spacing)
    finally:
        await conn.close()
    return samples, statuses


async def start_tasks(
    port: int, session_id: str, count: int, payload: dict[str, Any], clients: int = 8
) -> list[str]:
    """Start ``count`` tasks over ``clients`` connections; their task ids."""
    ids: list[str] = []

    async def client(share: int) -> None:
        conn = HttpConnection(port)
        try:
            for _ in range(share):
                ids.append(str((await invoke(conn, session_id, payload))["task_id"]))
        finally:
            await conn.close()

    shares = [count // clients + (1 if i < count % clients else 0) for i in range(clients)]
    await asyncio.gather(*(client(share) for share in shares if share))
    return ids


async def run_to_completion(
    port: int, session_id: str, duration: float, timeout: float = 30.0
) -> dict[str, Any]:
    """Start one task and poll (20 ms apart) until it is no longer RUNNING; its final view."""
    conn = HttpConnection(port)
    try:
        started = await invoke(conn, session_id, {"action": "start_background_task", "duration": duration})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            poll = {"action": "get_task_result", "task_id": started["task_id"]}
            view = await invoke(conn, session_id, poll)
            if view["status"] != "RUNNING":
                return dict(view)
            await asyncio.sleep(0.02)
    finally:
        await conn.close()
    raise UnexpectedResponse(f"task {started['task_id']} still RUNNING after {timeout:g}s")
