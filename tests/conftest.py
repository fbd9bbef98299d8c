"""Session-wide fixtures: real local servers shared by the suites."""

from __future__ import annotations

import fcntl
import os
import pickle
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.support.servers import MotoServer, RedisServer, running_moto, running_redis

if TYPE_CHECKING:  # jsii starts only when a test needs templates
    from tests.infra.synth import AllSynths, VariantSynths

# Tests never reach AWS: fake credentials and a fixed region for every boto3 client.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> AllSynths:
    """Every stage x lifecycle preset, synthesized once per run (jsii is slow) for the infra and
    hardening suites alike. With xdist (``make test``), the first worker to need it synthesizes under
    a file lock and the others load the result."""
    from tests.infra.synth import COMBINATIONS, synthesize  # noqa: PLC0415 - jsii only when needed

    # Every xdist worker has its own base temp directory; their parent belongs to this run only.
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    with (shared / "synthesized.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cache = shared / "synthesized.pickle"
        if cache.exists():
            loaded: AllSynths = pickle.loads(cache.read_bytes())
            return loaded
        root = shared / "cdk-out"
        synths = {
            (stage, preset): synthesize(stage, preset, root / f"{stage}-{preset}")
            for stage, preset in COMBINATIONS
        }
        cache.write_bytes(pickle.dumps(synths))
        return synths


@pytest.fixture(scope="session")
def synthesized_variants(tmp_path_factory: pytest.TempPathFactory) -> VariantSynths:
    """The feature switches of ``tests.infra.synth.VARIANTS`` (auth=jwt, endpoint=...), synthesized
    once per run like :func:`synthesized`."""
    from tests.infra.synth import VARIANTS, synthesize  # noqa: PLC0415 - jsii only when needed

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    with (shared / "variants.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cache = shared / "variants.pickle"
        if cache.exists():
            loaded: VariantSynths = pickle.loads(cache.read_bytes())
            return loaded
        root = shared / "cdk-out-variants"
        synths = {
            name: synthesize(stage, preset, root / name, extra)
            for name, (stage, preset, extra) in VARIANTS.items()
        }
        cache.write_bytes(pickle.dumps(synths))
        return synths


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
