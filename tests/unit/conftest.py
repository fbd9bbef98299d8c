"""The unit tier: in-process and quick (``make test-fast``). No servers, no subprocesses."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.testclient import TestClient

from agent.service import create_app
from agent.settings import load_settings
from agent.store.base import Stores
from agent.store.memory import MemoryStore
from agentcore_async.contract import SESSION_HEADER

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
        self,
        payload: object,
        session: str = "unit-session-00000000000000000000000001",
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, object]:
        response = self.client.post(
            "/invocations", json=payload, headers={SESSION_HEADER: session, **(headers or {})}
        )
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body


@pytest.fixture
def unit_env() -> Mapping[str, str]:
    """The environment of :func:`agent` and :func:`stored_agent`; a module that needs another
    overrides this fixture."""
    return UNIT_ENV


@pytest.fixture
def agent(unit_env: Mapping[str, str]) -> Iterator[Agent]:
    with TestClient(create_app(load_settings(unit_env))) as client:
        yield Agent(client)


@pytest.fixture
def store() -> MemoryStore:
    """The task store of :func:`stored_agent`, for tests that write or read records directly."""
    return MemoryStore()


@pytest.fixture
def stored_agent(store: MemoryStore, unit_env: Mapping[str, str]) -> Iterator[Agent]:
    """:func:`agent` on the :func:`store` fixture's memory store."""
    with TestClient(create_app(load_settings(unit_env), Stores(tasks=store))) as client:
        yield Agent(client)


_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> InMemorySpanExporter:
    """Every span ended from now on (the process's one tracer provider keeps them in memory)."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    _EXPORTER.clear()
    return _EXPORTER
