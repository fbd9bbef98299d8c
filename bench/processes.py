"""Start and stop the servers a benchmark needs: agents, moto, the emulator. Loopback only."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

STOP_GRACE_SECONDS = 5.0
PROJECT_ROOT = Path(__file__).resolve().parents[1]
PRIVATE_ENV = frozenset({"AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"})
"""Never handed to a benchmark process: they get fake credentials and loopback endpoints only."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http_ok(url: str, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    """Poll ``url`` until it answers 2xx; fail early if ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=1.0) as response:
                if 200 <= response.status < 300:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")


def rss_bytes(pid: int) -> int:
    """Resident set size of a process (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


@dataclass
class Server:
    """A child process serving HTTP on ``127.0.0.1:port``, its output in ``log``."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    grace: float = STOP_GRACE_SECONDS

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        """SIGTERM, a grace period, then SIGKILL; always reaps the process."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=self.grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def running(
    name: str,
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    workdir: Path,
    ready_path: str = "/ping",
    port: int | None = None,
    timeout: float = 60.0,
    grace: float = STOP_GRACE_SECONDS,
) -> Iterator[Server]:
    """Run ``command`` with ``PORT`` set, wait until ``ready_path`` answers, stop it on exit.

    ``{port}`` in an argument is replaced by the port.
    """
    port = port or free_port()
    argv = [arg.replace("{port}", str(port)) for arg in command]
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"{name}-{port}.log"
    inherited = {k: v for k, v in os.environ.items() if k not in PRIVATE_ENV}
    child_env = {**inherited, "PYTHONPATH": str(PROJECT_ROOT), **env, "PORT": str(port)}
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, env=child_env, cwd=workdir, stdout=sink, stderr=subprocess.STDOUT)
    server = Server(name=name, port=port, process=process, log=log, grace=grace)
    try:
        wait_http_ok(f"{server.url}{ready_path}", timeout, process)
        yield server
    finally:
        server.stop()


def python_module(module: str, *args: str) -> list[str]:
    """The command line running ``python -m module`` with this interpreter."""
    return [sys.executable, "-m", module, *args]
