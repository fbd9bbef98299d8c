"""Session-wide fixtures: real local servers shared by the suites."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.servers import MotoServer, RedisServer, running_moto, running_redis

# Tests never reach AWS: fake credentials and a fixed region for every boto3 client.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port."""
    with running_redis() as server:
        yield server


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """moto in server mode on a free loopback port (DynamoDB, S3, ...)."""
    with running_moto() as server:
        yield server
