"""Shared run environment: the work directory, moto in its own process, and agent launchers."""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import boto3

from agent.store.dynamodb import task_table_definition
from agentcore_async.contract import EnvVar
from bench.processes import Server, python_module, running

StoreKind = Literal["embedded", "dynamodb"]
TABLE_NAME = "bench-tasks"
EMULATOR_STOP_GRACE_SECONDS = 30.0
REGION = "us-east-1"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@dataclass(frozen=True)
class AgentKind:
    """One side of the comparison: the module that serves it."""

    label: str
    module: str


OURS = AgentKind("ours", "agent")
SEED = AgentKind("seed", "bench.baselines.seed_agent")


@dataclass(frozen=True)
class Environment:
    """Where a run keeps its files and how its processes reach moto."""

    workdir: Path
    moto_url: str

    def aws_env(self) -> dict[str, str]:
        """Fake credentials and every AWS endpoint pointed at the local moto server."""
        return {**AWS_ENV, "AWS_ENDPOINT_URL": self.moto_url}

    def store_env(self, store: StoreKind, name: str) -> dict[str, str]:
        """The settings that put an agent (ours or the seed) on ``store``."""
        if store == "dynamodb":
            return {**self.aws_env(), EnvVar.STORE_BACKEND: "dynamodb", EnvVar.TABLE_NAME: TABLE_NAME}
        path = self.workdir / f"{name}.sqlite3"
        path.unlink(missing_ok=True)
        return {**self.aws_env(), EnvVar.STORE_BACKEND: "sqlite", EnvVar.SQLITE_PATH: str(path)}

    @contextmanager
    def agent(
        self,
        kind: AgentKind,
        store: StoreKind,
        extra_env: Mapping[str, str] | None = None,
        wrapper: str | None = None,
    ) -> Iterator[Server]:
        """Run one agent process on a free port until the block ends."""
        name = f"{kind.label}-{store}"
        env = {**self.store_env(store, name), EnvVar.HOST: "127.0.0.1", **(extra_env or {})}
        command = python_module(wrapper, kind.module) if wrapper else python_module(kind.module)
        with running(name, command, env=env, workdir=self.workdir) as server:
            yield server


def local_client(service: str, endpoint_url: str) -> Any:
    """A boto3 client of ``service`` at a loopback endpoint, with the fake credentials."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def create_task_table(moto_url: str, name: str = TABLE_NAME) -> None:
    """The task table as the storage stack defines it (keys and index from ``agent.settings``)."""
    local_client("dynamodb", moto_url).create_table(**task_table_definition(name))


@contextmanager
def emulator(
    env: Environment,
    kind: AgentKind,
    *flags: str,
    agent_env: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """``python -m emulator`` whose microVMs run ``kind``, all on one shared SQLite store; ``flags``
    go to the emulator (timers), ``agent_env`` to every agent it starts."""
    store_dir = env.workdir / f"emulator-{kind.label}-store"
    agent_command = " ".join(shlex.quote(part) for part in python_module(kind.module))
    command = python_module(
        "emulator",
        "--port",
        "{port}",
        "--agent-command",
        agent_command,
        "--store-dir",
        str(store_dir),
        "--quiet-agent",
        "--stop-grace",  # the bench's agents exit at once on SIGTERM; keep its shutdown bounded as before
        "5",
        "--log-level",
        "WARNING",
        *flags,
    )
    # The emulator stops its own agent processes on SIGTERM (each with a grace): give it time.
    with running(
        f"emulator-{kind.label}",
        command,
        env={**AWS_ENV, **(agent_env or {})},
        workdir=env.workdir,
        ready_path="/sessions",
        grace=EMULATOR_STOP_GRACE_SECONDS,
    ) as server:
        yield server


@contextmanager
def environment(workdir: Path) -> Iterator[Environment]:
    """A moto server in its own process (so it does not share the driver's GIL) with the table."""
    workdir.mkdir(parents=True, exist_ok=True)
    command = python_module("moto.server", "-H", "127.0.0.1", "-p", "{port}")
    with running("moto", command, env=AWS_ENV, workdir=workdir, ready_path="/moto-api/") as moto:
        create_task_table(moto.url)
        yield Environment(workdir=workdir, moto_url=moto.url)
