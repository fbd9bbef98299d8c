"""Session-wide fixtures: real local servers shared by the suites."""

from __future__ import annotations

import fcntl
import os
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pytest

from tests.support.servers import MotoServer, RedisServer, running_moto, running_redis
from tests.support.task_stores import BACKENDS, StoreBackend, open_backend

if TYPE_CHECKING:  # jsii starts only when a test needs templates
    from tests.infra.synth import AllSynths, VariantSynths

T = TypeVar("T")

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

    def synthesize_all(root: Path) -> AllSynths:
        return {
            (stage, preset): synthesize(stage, preset, root / f"{stage}-{preset}")
            for stage, preset in COMBINATIONS
        }

    return _once_per_run(tmp_path_factory, "synthesized", synthesize_all)


def _once_per_run(factory: pytest.TempPathFactory, name: str, make: Callable[[Path], T]) -> T:
    """``make(directory)`` once per run: the first xdist worker makes it under a file lock and
    pickles it; the others load that."""
    # Every xdist worker has its own base temp directory; their parent belongs to this run only.
    base = factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    with (shared / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cache = shared / f"{name}.pickle"
        if cache.exists():
            loaded: T = pickle.loads(cache.read_bytes())
            return loaded
        made = make(shared / "cdk-out" / name)
        cache.write_bytes(pickle.dumps(made))
        return made


@pytest.fixture(scope="session")
def synthesized_variants(tmp_path_factory: pytest.TempPathFactory) -> VariantSynths:
    """The feature switches of ``tests.infra.synth.VARIANTS`` (auth=jwt, endpoint=..., the example
    state machine), synthesized once per run like :func:`synthesized`."""
    from tests.infra.synth import VARIANTS, synthesize  # noqa: PLC0415 - jsii only when needed

    def synthesize_variants(root: Path) -> VariantSynths:
        return {
            name: synthesize(stage, preset, root / name, extra)
            for name, (stage, preset, extra) in VARIANTS.items()
        }

    return _once_per_run(tmp_path_factory, "variants", synthesize_variants)


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


@pytest.fixture(params=BACKENDS)
def store_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreBackend]:
    """Each task store in turn (memory, SQLite, DynamoDB on moto, Redis) on a fresh table or file."""
    with open_backend(request.param, request, tmp_path) as backend:
        yield backend


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Deal the slow tests out to the head of each worker's share, a module's together.

    ``make test`` runs ``--dist worksteal``, which first splits the items into one run of
    consecutive items per worker, in order, and later moves work from the tail of the longest queue.
    So the long tests start side by side at once instead of queuing on one worker at the end; a
    module's slow tests stay on one worker, so its module-scoped fixture is built once."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    if workers < 2 or not slow:
        return
    modules: dict[str, list[pytest.Item]] = {}
    for item in slow:
        modules.setdefault(item.nodeid.split("::")[0], []).append(item)
    heads: list[list[pytest.Item]] = [[] for _ in range(workers)]
    for group in sorted(modules.values(), key=len, reverse=True):
        min(heads, key=len).extend(group)
    fast = iter([item for item in items if item.get_closest_marker("slow") is None])
    ordered: list[pytest.Item] = []
    left = len(items)
    for worker, head in enumerate(heads):
        share = left // (workers - worker)  # the size worksteal sends this worker
        ordered += head + [next(fast) for _ in range(share - len(head))]
        left -= share
    items[:] = ordered
