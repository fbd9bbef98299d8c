"""Run ``python -m emulator`` as a real subprocess on a free port, and reach it with boto3."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import boto3
from botocore.config import Config

from agentcore_async.client.api import AgentClient
from agentcore_async.client.session_table import fetch_session_table, microvms
from emulator.config import DEFAULT_RUNTIME_ARN
from emulator.demo import stored_task
from tests.support.agent_process import TEST_KINDS
from tests.support.servers import free_port, wait_for_port

REPO_ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")
AGENT_TEST_ENV = {
    "AGENT_HEARTBEAT_SECONDS": "0.2",
    "AGENT_LEASE_SECONDS": "1",
    "AGENT_LOG_LEVEL": "INFO",
    **TEST_KINDS,
}
"""Agent heartbeat and LOST lease scaled down for the fast timers; the test-only ``once`` kind."""
_STORE_VARS = ("AGENT_STORE_BACKEND", "AGENT_SQLITE_PATH", "AGENT_TABLE_NAME", "AGENT_REDIS_URL")


def wait_until(probe: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll ``probe`` until it returns something other than None."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.05)


def pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` exists with a thread still running (not a zombie we could still
    reap). Every thread counts: the main thread turns zombie first, and the process's sockets close
    only when its last thread has exited."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        threads = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return False
    for thread in threads:
        with contextlib.suppress(OSError):
            if (thread / "stat").read_text().split(")")[-1].split()[0] != "Z":
                return True
    return False


def refuses(port: int) -> bool:
    """Whether nothing listens on ``port`` any more (a connection is refused, not accepted)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return False


@dataclass
class RunningEmulator:
    """A live emulator process and helpers to reach it."""

    url: str
    arn: str
    process: subprocess.Popen[bytes]
    log_path: Path
    store_dir: Path

    def boto(self, **config: Any) -> Any:
        """A real ``bedrock-agentcore`` boto3 client pointed at the emulator."""
        settings: dict[str, Any] = {"read_timeout": 90, "retries": {"max_attempts": 1}}
        settings.update(config)
        return boto3.client(
            "bedrock-agentcore", endpoint_url=self.url, region_name="us-east-1", config=Config(**settings)
        )

    def agent_client(self, session_id: str | None, *, long_poll_seconds: int = 20) -> AgentClient:
        """The project's client library over a boto3 client to the emulator."""
        return AgentClient(
            self.boto(), runtime_arn=self.arn, session_id=session_id, long_poll_seconds=long_poll_seconds
        )

    def table(self) -> dict[str, Any]:
        """GET /sessions."""
        return fetch_session_table(self.url)

    def rows(self, session_id: str) -> list[dict[str, Any]]:
        """The microVMs of one session, oldest first."""
        return microvms(self.table(), session_id)

    def row_when(
        self, session_id: str, test: Callable[[dict[str, Any]], bool], timeout: float
    ) -> dict[str, Any]:
        """Wait for the newest microVM of ``session_id`` to satisfy ``test``."""

        def probe() -> dict[str, Any] | None:
            rows = self.rows(session_id)
            return rows[-1] if rows and test(rows[-1]) else None

        return wait_until(probe, timeout, f"a microVM of {session_id} matching {test}")

    def logs(self) -> str:
        """What the emulator (and the agents it started) wrote so far."""
        return self.log_path.read_text(errors="replace")

    def stored(self, session_id: str, task_id: str) -> dict[str, Any] | None:
        """A task's record as the agents' shared SQLite store holds it (``--store-dir``), read
        without an invocation, so no microVM starts and nothing is resumed."""
        return stored_task(self.store_dir, session_id, task_id)


def emulator_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The emulator's environment: no store chosen by the caller, fast agent heartbeats."""
    env = {key: value for key, value in os.environ.items() if key not in _STORE_VARS}
    env.update(AGENT_TEST_ENV)
    env["PYTHONPATH"] = str(REPO_ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


@contextmanager
def running_emulator(
    *flags: str, env: Mapping[str, str] | None = None, shared_store: bool = True
) -> Iterator[RunningEmulator]:
    """Start the emulator with fast timers plus ``flags``; stop it and every agent on exit."""
    with tempfile.TemporaryDirectory(prefix="emulator-test-") as tmp:
        port = free_port()
        store_dir = Path(tmp) / "store"
        log_path = Path(tmp) / "emulator.log"
        command = [
            sys.executable,
            "-m",
            "emulator",
            "--port",
            str(port),
            "--fast-timers",
            "--stop-grace",
            "1",
        ]
        if shared_store:
            command += ["--store-dir", str(store_dir)]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [*command, *flags], cwd=REPO_ROOT, env=emulator_env(env), stdout=log, stderr=subprocess.STDOUT
            )
        emulator = RunningEmulator(
            url=f"http://127.0.0.1:{port}",
            arn=DEFAULT_RUNTIME_ARN,
            process=process,
            log_path=log_path,
            store_dir=store_dir,
        )
        pids: set[int] = set()
        try:
            _wait_ready(emulator, port)
            yield emulator
        finally:
            with contextlib.suppress(OSError, ValueError):
                pids = {row["pid"] for row in emulator.table()["sessions"] if row["pid"]}
            _stop(process)
            for pid in pids:  # a safety net: the emulator should have stopped them all
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)


def _wait_ready(emulator: RunningEmulator, port: int) -> None:
    deadline = time.monotonic() + 30
    while emulator.process.poll() is None and time.monotonic() < deadline:
        try:
            wait_for_port(port, timeout=0.5)
            return
        except TimeoutError:
            continue
    raise RuntimeError(f"the emulator did not start:\n{emulator.logs()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
