"""The stores a run puts its agents on, each started on loopback behind a fault proxy."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import boto3
import redis

from agent.store.dynamodb import task_table_definition
from bench.environment import AWS_ENV, REGION
from bench.processes import free_port, python_module, running
from contract import EnvVar
from nemesis.proxy import Proxy, proxied

TABLE = "nemesis-tasks"
BUCKET = "nemesis-results"
S3_THRESHOLD_BYTES = 512
"""Results and checkpoints above this go to S3 on the DynamoDB store (the workload pads some)."""


@contextmanager
def store_services(store: str, workdir: Path) -> Iterator[tuple[dict[str, str], dict[str, Proxy]]]:
    """The agents' store settings for ``store`` and the proxies in front of its servers."""
    with ExitStack() as stack:
        env = {EnvVar.STORE_BACKEND: "sqlite", EnvVar.SQLITE_PATH: str(workdir / "tasks.sqlite3")}
        proxies: dict[str, Proxy] = {}
        if store == "dynamodb":
            command = python_module("moto.server", "-H", "127.0.0.1", "-p", "{port}")
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
        elif store == "redis":
            port = stack.enter_context(_redis_server(workdir))
            proxies = {"store": stack.enter_context(proxied(("127.0.0.1", port)))}
            env[EnvVar.REDIS_URL] = f"redis://127.0.0.1:{proxies['store'].port}/0"
        yield env, proxies


def _create_table_and_bucket(url: str) -> None:
    keys = {"endpoint_url": url, "region_name": REGION}
    creds = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    boto3.client("dynamodb", **keys, **creds).create_table(**task_table_definition(TABLE))
    boto3.client("s3", **keys, **creds).create_bucket(Bucket=BUCKET)


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
