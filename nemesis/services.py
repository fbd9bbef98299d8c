"""The stores a run puts its agents on, each started on loopback behind a fault proxy."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis

from agent.store.sqlite import SqliteStore
from agentcore_async.contract import EnvVar
from bench.environment import AWS_ENV, create_task_table, local_client
from bench.processes import free_port, python_module, running
from nemesis.poison import poison_dynamodb, poison_sqlite
from nemesis.proxy import Proxy, proxied

TABLE = "nemesis-tasks"
BUCKET = "nemesis-results"
S3_THRESHOLD_BYTES = 512
"""Results and checkpoints above this go to S3 on the DynamoDB store (the workload pads some)."""


@dataclass
class StoreHandles:
    """What the agents are told (``env``) and how the nemesis reaches the store behind them."""

    name: str
    env: dict[str, str]
    proxies: dict[str, Proxy] = field(default_factory=dict)
    """``store`` (DynamoDB or Redis) and ``s3``, in front of the servers the agents use."""
    sqlite_path: Path | None = None
    moto_url: str | None = None
    redis_port: int | None = None

    def poison(self, session_id: str) -> str:
        """Write a record this version cannot read into the session's durable store."""
        if self.moto_url is not None:
            return poison_dynamodb(self.moto_url, TABLE, session_id)
        assert self.sqlite_path is not None
        return poison_sqlite(self.sqlite_path, session_id)

    def redis_full(self, full: bool) -> None:
        """Make Redis refuse every write (``maxmemory`` reached, ``noeviction``), or accept again."""
        assert self.redis_port is not None
        client = redis.Redis(host="127.0.0.1", port=self.redis_port)
        try:
            client.config_set("maxmemory-policy", "noeviction")
            client.config_set("maxmemory", "1" if full else "0")
        finally:
            client.close()


@contextmanager
def store_services(store: str, workdir: Path) -> Iterator[StoreHandles]:
    """The agents' store settings for ``store``, its servers started, proxies in front of them."""
    with ExitStack() as stack:
        sqlite_path = workdir / "tasks.sqlite3"
        env = {EnvVar.STORE_BACKEND: "sqlite", EnvVar.SQLITE_PATH: str(sqlite_path)}
        handles = StoreHandles(store, env, sqlite_path=sqlite_path)
        # The schema exists before the first fault, as a deployed table does: a record can be
        # poisoned before the first agent process has started.
        SqliteStore(sqlite_path).close()
        if store == "dynamodb":
            command = python_module("bench.atomic_moto", "-H", "127.0.0.1", "-p", "{port}")
            moto = stack.enter_context(
                running("moto", command, env=AWS_ENV, workdir=workdir, ready_path="/moto-api/")
            )
            _create_table_and_bucket(moto.url)
            upstream = ("127.0.0.1", moto.port)
            proxies = {
                "store": stack.enter_context(proxied(upstream)),
                "s3": stack.enter_context(proxied(upstream)),
            }
            env = {
                EnvVar.STORE_BACKEND: "dynamodb",
                EnvVar.TABLE_NAME: TABLE,
                EnvVar.BUCKET_NAME: BUCKET,
                EnvVar.S3_THRESHOLD_BYTES: str(S3_THRESHOLD_BYTES),
                "AWS_ENDPOINT_URL_DYNAMODB": proxies["store"].url,
                "AWS_ENDPOINT_URL_S3": proxies["s3"].url,
            }
            handles = StoreHandles(store, env, proxies, moto_url=moto.url)
        elif store == "redis":
            port = stack.enter_context(_redis_server(workdir))
            handles.redis_port = port
            handles.proxies = {"store": stack.enter_context(proxied(("127.0.0.1", port)))}
            env[EnvVar.REDIS_URL] = f"redis://127.0.0.1:{handles.proxies['store'].port}/0"
        yield handles


def _create_table_and_bucket(url: str) -> None:
    create_task_table(url, TABLE)
    local_client("s3", url).create_bucket(Bucket=BUCKET)


@contextmanager
def _redis_server(workdir: Path) -> Iterator[int]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed: run `make services`")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        client.close()
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
