"""Run the agent (``python -m agent``) as a real subprocess on a free loopback port.

Typical use in a test::

    with running_agent({"AGENT_SQLITE_PATH": str(tmp_path / "tasks.db")}) as agent:
        status, body = agent.invoke({"action": "start_background_task", "duration": 1}, session_id=SID)
        agent.kill()      # SIGKILL, like a terminated microVM
        agent.restart()   # a fresh process, same port and environment

``invoke`` and ``ping`` use only the standard library, so they also work for
other suites (emulator, hardening, benchmarks).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.servers import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
DEFAULT_SESSION = "test-session-0000000000000000000000000001"
"""A valid (33+ character) runtime session id."""
FAST_TIMERS = {"AGENT_HEARTBEAT_SECONDS": "0.2", "AGENT_LEASE_SECONDS": "1"}
"""Scaled-down heartbeat and lease for tests."""
TEST_KINDS = {"AGENT_EXTRA_KINDS": "tests.support.once_kind"}
"""Every agent the helpers start can also run ``once``, a kind that is not resumable."""


@dataclass
class AgentProcess:
    """A running ``python -m agent``; see :func:`running_agent`."""

    port: int
    env: dict[str, str]
    log_path: Path
    startup_timeout: float = 30.0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:12345``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Spawn the process and block until /ping answers."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "agent"],
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"agent exited with {self.process.returncode}:\n{self.logs()[-4000:]}")
            try:
                self.ping(timeout=0.5)
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.05)
        self.stop()
        raise TimeoutError(
            f"agent did not answer /ping within {self.startup_timeout}s:\n{self.logs()[-4000:]}"
        )

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it does not exit in ``timeout`` seconds."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL (like a microVM being terminated) and reap the process."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def restart(self, **env: str) -> None:
        """Stop if running, then start a fresh process on the same port (``env`` overrides variables)."""
        self.stop()
        self.env.update(env)
        self.start()

    def logs(self) -> str:
        """Everything the process wrote so far (JSON lines)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_records(self) -> list[dict[str, Any]]:
        """The JSON log lines, parsed (non-JSON lines are skipped)."""
        records = []
        for line in self.logs().splitlines():
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                records.append(value)
        return records

    def ping(self, timeout: float = 5.0) -> dict[str, Any]:
        """GET /ping as parsed JSON."""
        with urllib.request.urlopen(f"{self.url}/ping", timeout=timeout) as response:
            body: dict[str, Any] = json.loads(response.read())
            return body

    def invoke(
        self,
        payload: Mapping[str, Any] | bytes,
        session_id: str | None = DEFAULT_SESSION,
        timeout: float = 30.0,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """POST /invocations; returns (HTTP status, parsed JSON body) for success and error alike.

        ``payload`` may be raw bytes to send malformed bodies; ``session_id=None`` omits the header.
        """
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        request = urllib.request.Request(f"{self.url}/invocations", data=data, method="POST")
        request.add_header("Content-Type", "application/json")
        if session_id is not None:
            request.add_header(SESSION_HEADER, session_id)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.loads(error.read())


def agent_env(overrides: Mapping[str, str] | None = None, port: int | None = None) -> dict[str, str]:
    """The process environment: this one, plus loopback host, a port, the repo on PYTHONPATH, overrides."""
    env = dict(os.environ)
    env.update(
        {
            "PORT": str(port or free_port()),
            "AGENT_HOST": "127.0.0.1",
            "PYTHONPATH": str(REPO_ROOT),
            "PYTHONUNBUFFERED": "1",
            **TEST_KINDS,
        }
    )
    env.update(overrides or {})
    return env


@contextmanager
def running_agent(
    env: Mapping[str, str] | None = None, startup_timeout: float = 30.0
) -> Iterator[AgentProcess]:
    """Start ``python -m agent`` with ``env`` overrides on a free port; always stopped on exit."""
    full_env = agent_env(env)
    with tempfile.TemporaryDirectory(prefix="agent-log-") as tmp:
        agent = AgentProcess(
            port=int(full_env["PORT"]),
            env=full_env,
            log_path=Path(tmp) / "agent.log",
            startup_timeout=startup_timeout,
        )
        try:
            agent.start()
            yield agent
        finally:
            agent.stop()
            agent.kill()
