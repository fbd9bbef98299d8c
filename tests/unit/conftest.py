"""The unit tier: in-process and quick (``make test-fast``). No servers, no subprocesses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from agent.service import create_app
from agent.settings import load_settings
from contract import SESSION_HEADER

UNIT_ENV = {
    "AGENT_STORE_BACKEND": "memory",
    "AGENT_ALLOW_MEMORY_STORE": "true",
    "AGENT_HEARTBEAT_SECONDS": "0.05",
    "AGENT_LEASE_SECONDS": "1",
    "AGENT_MAX_PAYLOAD_BYTES": "4096",
    "AGENT_MAX_LIFETIME_SECONDS": "600",
    "AGENT_EXTRA_KINDS": "tests.support.once_kind",
}


class Agent:
    """The agent's ASGI app on the memory store, called in-process."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def invoke(
        self, payload: object, session: str = "unit-session-00000000000000000000000001"
    ) -> dict[str, object]:
        response = self.client.post("/invocations", json=payload, headers={SESSION_HEADER: session})
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body


@pytest.fixture
def agent() -> Iterator[Agent]:
    with TestClient(create_app(load_settings(UNIT_ENV))) as client:
        yield Agent(client)
