"""Real servers on loopback for the tests: redis-server and moto in server mode."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
from moto.server import ThreadedMotoServer


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Block until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@dataclass
class RedisServer:
    """A real redis-server process on a free loopback port."""

    port: int
    process: subprocess.Popen[bytes]
    workdir: Path
    durable: bool = False
    config: tuple[str, ...] = ()
    """Extra redis-server arguments (``--maxmemory-policy allkeys-lru``, ...)."""

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        """Stop the server; a durable one keeps its data on disk for :meth:`restart`."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self) -> None:
        """Start again on the same port (after :meth:`stop`), for outage tests."""
        self.stop()
        self.process = _spawn_redis(self.port, self.workdir, durable=self.durable, config=self.config)
        _wait_redis(self.port)


def _spawn_redis(
    port: int, workdir: Path, *, durable: bool, config: tuple[str, ...] = ()
) -> subprocess.Popen[bytes]:
    # A durable server fsyncs every write to its append-only file, so a restart keeps its data
    # (like a managed cache riding out a network partition or a failover).
    persistence = ["--appendonly", "yes", "--appendfsync", "always"] if durable else ["--appendonly", "no"]
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed: run `make services` (installs it with apt-get)")
    return subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            *persistence,
            "--dir",
            str(workdir),
            *config,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_redis(port: int, timeout: float = 10.0) -> None:
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.ping()
            client.close()
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@contextmanager
def running_redis(*, durable: bool = False, config: tuple[str, ...] = ()) -> Iterator[RedisServer]:
    """Start a redis-server for the duration of the block (``durable``: data survives restarts;
    ``config``: extra server arguments)."""
    with tempfile.TemporaryDirectory(prefix="redis-") as tmp:
        port = free_port()
        process = _spawn_redis(port, Path(tmp), durable=durable, config=config)
        server = RedisServer(port=port, process=process, workdir=Path(tmp), durable=durable, config=config)
        try:
            _wait_redis(port)
            yield server
        finally:
            server.stop()


@dataclass
class MotoServer:
    """moto in server mode, reached by real boto3 clients over HTTP."""

    port: int
    server: ThreadedMotoServer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.stop()

    def restart(self) -> None:
        """Start a fresh server on the same port (state is lost, as after a real outage of moto)."""
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        wait_for_port(self.port)


@contextmanager
def running_moto() -> Iterator[MotoServer]:
    """Start a ThreadedMotoServer on a free port for the duration of the block."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    wait_for_port(port)
    try:
        yield MotoServer(port=port, server=server)
    finally:
        server.stop()
