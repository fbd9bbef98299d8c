"""Private storage servers for outage tests: stopped and restarted without touching the shared ones."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from tests.support.servers import free_port, wait_for_port


@dataclass
class DurableRedis:
    """A redis-server with an fsync-always append-only file, so a restart keeps its data (like a
    managed cache riding out a network partition or a failover)."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The ``redis://`` URL."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (again) on the same port and data directory."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed; run `make services`")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port)
        client = redis.Redis(host="127.0.0.1", port=self.port)
        try:
            client.ping()
        finally:
            client.close()

    def stop(self) -> None:
        """Stop the server (its data stays on disk)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def durable_redis() -> Iterator[DurableRedis]:
    """A private :class:`DurableRedis`, always stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="redis-outage-") as tmp:
        server = DurableRedis(port=free_port(), workdir=Path(tmp))
        try:
            server.start()
            yield server
        finally:
            server.stop()
