"""The client rides out the agent's "storage unavailable; retry" answers while it waits."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest

from agentcore_async.client.api import AgentClient
from agentcore_async.client.backoff import Backoff
from agentcore_async.client.models import TaskStatus
from tests.agent.aws import create_resources
from tests.emulator.harness import running_emulator
from tests.support.servers import MotoServer, running_moto


@pytest.fixture
def own_moto() -> Iterator[MotoServer]:
    """A moto server only this test stops (moto keeps its state in-process across a restart)."""
    with running_moto() as server:
        yield server


def test_wait_retries_through_a_storage_outage(own_moto: MotoServer) -> None:
    aws = create_resources(own_moto)
    env = {**aws.env(), "AGENT_WRITE_ATTEMPTS": "1", "AGENT_RETRY_BASE_SECONDS": "0.05"}
    flags = ("--idle-timeout", "60", "--max-lifetime", "600", "--ping-interval", "0.3")
    with running_emulator(*flags, env=env, shared_store=False) as emulator:
        client = AgentClient(
            emulator.boto(),
            runtime_arn=emulator.arn,
            session_id=f"client-{uuid.uuid4().hex}",
            long_poll_seconds=1,
            backoff=Backoff(base=0.2, cap=1.0),
        )
        task_id = client.start(3)
        own_moto.stop()  # the agent now answers polls with 503 StorageUnavailable
        restart = threading.Timer(2.0, own_moto.restart)
        restart.start()
        try:
            done = client.wait(task_id, timeout=60)
        finally:
            restart.join()
        assert done.status is TaskStatus.COMPLETED
        assert done.result == "Task completed after 3s"
