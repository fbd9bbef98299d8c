"""A loopback HTTP server that plays AgentCore Runtime for the client: InvokeAgentRuntime and
StopRuntimeSession in their REST shape, reached by real boto3 clients through ``endpoint_url``.

Its agent answers as the payload API does on AWS: a task view always has ``status``, and an
application error is a 200 answer ``{"error": {"code", "message"}}``. Scripted faults replace the
next answers with what a runtime does while a microVM ends (a reset connection, a
``RuntimeClientError``) or with an agent refusal.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
import urllib.parse
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ARN = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/fake_agent-AbCdEf1234"
SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
STATUS = {
    "ValidationException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "RuntimeClientError": 424,
    "ThrottlingException": 429,
    "InternalServerException": 500,
}


@dataclass(frozen=True)
class Reset:
    """Drop the connection without answering (a microVM that vanished mid-call)."""


@dataclass(frozen=True)
class Fault:
    """An AWS error answer (rest-json: ``x-amzn-ErrorType`` and ``message``)."""

    code: str
    message: str


@dataclass(frozen=True)
class Refusal:
    """The agent's 200 answer ``{"error": {"code", "message"}}``."""

    code: str
    message: str


Scripted = Reset | Fault | Refusal


@dataclass
class Task:
    """One task of the fake agent; it completes ``duration`` seconds after it started."""

    task_id: str
    session_id: str
    duration: float
    created_at: float
    cancelled: bool = False

    def view(self, now: float) -> dict[str, Any]:
        """The task as the payload API shows it."""
        elapsed = now - self.created_at
        view: dict[str, Any] = {"task_id": self.task_id, "created_at": self.created_at}
        if self.cancelled:
            view.update(status="CANCELLED", error={"code": "Cancelled", "message": "cancelled"})
        elif elapsed >= self.duration:
            view.update(status="COMPLETED", progress=1.0, result=f"Task completed after {self.duration:g}s")
        else:
            view.update(status="RUNNING", progress=round(elapsed / self.duration, 3))
        return view


@dataclass
class FakeRuntime:
    """The server's state; tests add faults and read the calls."""

    url: str = ""
    arn: str = ARN
    max_duration: float = 1750.0
    leaky: bool = False
    """A broken agent that shows every session's tasks to every session."""
    faults: deque[Scripted] = field(default_factory=deque)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    tasks: dict[str, Task] = field(default_factory=dict)
    lock: threading.Condition = field(default_factory=threading.Condition)

    def wait_for_calls(self, count: int, timeout: float = 15.0) -> None:
        """Block until at least ``count`` invocations arrived."""
        with self.lock:
            if not self.lock.wait_for(lambda: len(self.calls) >= count, timeout):
                raise AssertionError(f"only {len(self.calls)} of {count} invocations after {timeout}s")

    def answer(self, session_id: str, payload: dict[str, Any]) -> Scripted | dict[str, Any]:
        """What the runtime answers this invocation."""
        with self.lock:
            self.calls.append((session_id, payload))
            self.lock.notify_all()
            if self.faults:
                return self.faults.popleft()
        return self._agent(session_id, payload)

    def _agent(self, session_id: str, payload: dict[str, Any]) -> Refusal | dict[str, Any]:
        action = payload.get("action")
        if action == "start_background_task":
            duration = float(payload["duration"])
            if duration > self.max_duration:
                return Refusal(
                    "InvalidField",
                    f"duration exceeds the remaining lifetime of this microVM ({self.max_duration:g}s)",
                )
            task = Task(str(uuid.uuid4()), session_id, duration, time.time())
            with self.lock:
                self.tasks[task.task_id] = task
            return {"task_id": task.task_id, "status": "RUNNING"}
        if action == "list_tasks":
            with self.lock:
                mine = [task for task in self.tasks.values() if self._visible(task, session_id)]
            now = time.time()
            newest = sorted(mine, key=lambda task: task.created_at, reverse=True)
            return {"tasks": [task.view(now) for task in newest], "next_cursor": None}
        if action not in ("get_task_result", "cancel_task"):
            return Refusal("UnknownAction", f"unknown action {action!r}")
        found = self.tasks.get(str(payload.get("task_id")))
        if found is None or not self._visible(found, session_id):
            return Refusal("TaskNotFound", "no such task in this session")
        if action == "cancel_task" and found.view(time.time())["status"] == "RUNNING":
            found.cancelled = True
        deadline = time.time() + float(payload.get("wait_seconds", 0))
        while found.view(time.time())["status"] == "RUNNING" and time.time() < deadline:
            time.sleep(0.02)
        return found.view(time.time())

    def _visible(self, task: Task, session_id: str) -> bool:
        return self.leaky or task.session_id == session_id


def _rendered(answer: Fault | Refusal | dict[str, Any], session_id: str) -> tuple[int, dict[str, str], Any]:
    """HTTP status, headers and JSON body of an answer."""
    if isinstance(answer, Fault):
        return STATUS[answer.code], {"x-amzn-ErrorType": answer.code}, {"message": answer.message}
    if isinstance(answer, Refusal):
        return 200, {SESSION_HEADER: session_id}, {"error": {"code": answer.code, "message": answer.message}}
    return 200, {SESSION_HEADER: session_id}, answer


def _handler(runtime: FakeRuntime) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            parts = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).split("/")
            arn, operation = "/".join(parts[2:-1]), parts[-1]
            session_id = self.headers.get(SESSION_HEADER) or f"generated-{uuid.uuid4().hex}"
            if arn != runtime.arn:
                self._send(Fault("ResourceNotFoundException", f"No agent runtime with ARN {arn}"), session_id)
            elif operation == "stopruntimesession":
                runtime.stopped.append(session_id)
                self._send({}, session_id)
            else:
                self._send(runtime.answer(session_id, json.loads(body)), session_id)

        def _send(self, answer: Scripted | dict[str, Any], session_id: str) -> None:
            if isinstance(answer, Reset):
                # SO_LINGER 0: close with a TCP reset, as a vanished peer does.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                return
            status, headers, data = _rendered(answer, session_id)
            raw = json.dumps(data).encode()
            self.send_response(status)
            for name, value in {**headers, "Content-Type": "application/json"}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(raw)))
            try:
                self.end_headers()
                self.wfile.write(raw)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the caller went away (e.g. Ctrl-C) mid long-poll

    return Handler


@contextmanager
def running_fake_runtime(**settings: Any) -> Iterator[FakeRuntime]:
    """Serve a :class:`FakeRuntime` on a free loopback port for the duration of the block."""
    runtime = FakeRuntime(**settings)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(runtime))
    server.daemon_threads = True
    runtime.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="fake-runtime", daemon=True)
    thread.start()
    try:
        yield runtime
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
