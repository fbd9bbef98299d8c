"""Starts whose create landed but answered an error: closed FAILED, or adopted by a token retry.

The store here applies every create but, while ``losing``, answers it with a lost connection: what
a write does whose reply the network swallowed after the driver's last retry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from agent.records import TaskRecord, TaskStatus
from agent.store.memory import MemoryStore
from agent.work import task_id_for_token
from tests.support.waiting import eventually
from tests.unit.conftest import UNIT_ENV, Agent

pytestmark = pytest.mark.unit

SESSION = "unit-session-00000000000000000000000001"
ADOPTION_WINDOW = float(UNIT_ENV["AGENT_LEASE_SECONDS"]) - float(UNIT_ENV["AGENT_HEARTBEAT_SECONDS"])
"""lease - heartbeat: how long a record with a client token waits for a retry to adopt it."""


class LosingStore(MemoryStore):
    """A memory store whose creates land but fail from the caller's side while ``losing``."""

    def __init__(self) -> None:
        super().__init__()
        self.losing = False

    def create(self, record: TaskRecord) -> TaskRecord:
        stored = super().create(record)
        if self.losing:
            raise ConnectionError("the reply was lost")
        return stored


@pytest.fixture
def store() -> LosingStore:
    return LosingStore()


def start_once(agent: Agent, **fields: Any) -> dict[str, Any]:
    payload = {"action": "start_task", "kind": "once", "input": {"duration": 0.1}, **fields}
    return dict(agent.invoke(payload, SESSION))


def code(answer: dict[str, Any]) -> object:
    error = answer.get("error")
    return error.get("code") if isinstance(error, dict) else None


def stored_as(store: MemoryStore, task_id: str, status: TaskStatus) -> Callable[[], TaskRecord | None]:
    def check() -> TaskRecord | None:
        record = store.get(SESSION, task_id)
        return record if record is not None and record.status is status else None

    return check


def test_an_unadopted_token_start_is_closed_failed_only_after_the_adoption_window(
    stored_agent: Agent, store: LosingStore
) -> None:
    store.losing = True
    assert code(start_once(stored_agent, client_token="never-retried")) == "StorageUnavailable"
    store.losing = False
    task_id = task_id_for_token(SESSION, "never-retried")

    closed = eventually(stored_as(store, task_id, TaskStatus.FAILED), 10, "the record to be closed")

    assert closed.error_code == "StartFailed"
    assert closed.updated_at - closed.created_at >= ADOPTION_WINDOW, "closed before a retry could adopt it"
    assert (closed.progress, closed.result, closed.attempt) == (0.0, None, 1), "it ran"


def test_a_token_retry_adopts_the_record_even_after_a_retry_that_failed_too(
    stored_agent: Agent, store: LosingStore
) -> None:
    store.losing = True
    assert code(start_once(stored_agent, client_token="retried")) == "StorageUnavailable"
    assert code(start_once(stored_agent, client_token="retried")) == "StorageUnavailable"
    store.losing = False

    retried = start_once(stored_agent, client_token="retried")

    assert retried == {"task_id": task_id_for_token(SESSION, "retried"), "status": "RUNNING"}
    done = eventually(stored_as(store, retried["task_id"], TaskStatus.COMPLETED), 10, "the task to complete")
    assert done.attempt == 1
