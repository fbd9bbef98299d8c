"""Task ownership in-process: the caller's identity from the token, and what it changes (and what not)."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from agent.errors import ApiError
from agent.identity import token_subject
from agent.records import TaskRecord, TaskStatus
from agent.service import create_app
from agent.settings import load_settings
from agent.store.s3 import result_key
from agent.work import task_id_for_token
from agentcore_async.contract import SESSION_HEADER
from tests.unit.conftest import UNIT_ENV

pytestmark = pytest.mark.unit

SESSION = "unit-session-00000000000000000000000001"


def unsigned(claims: dict[str, object]) -> str:
    """``Bearer header.claims.signature``: the agent reads the claims AgentCore already verified."""
    part = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"Bearer eyJhbGciOiJSUzI1NiJ9.{part}.c2ln"


def test_the_subject_is_read_from_the_bearer_token() -> None:
    assert token_subject(unsigned({"sub": "user-1", "aud": "x"})) == "user-1"
    bad_headers = (None, "Basic abc", "Bearer not-a-jwt", "Bearer a.!!!.c")
    for bad in (*bad_headers, unsigned({"aud": "x"}), unsigned({"sub": ""})):
        with pytest.raises(ApiError) as refused:
            token_subject(bad)
        assert refused.value.code == "Unauthenticated"


def test_without_an_owner_client_token_ids_and_result_keys_are_unchanged() -> None:
    """IAM auth keeps the ids and S3 keys it always had: existing tasks stay reachable."""
    digest = bytearray(hashlib.sha256(f"{SESSION}\0order-42".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x40
    digest[8] = (digest[8] & 0x3F) | 0x80
    assert task_id_for_token(SESSION, "order-42") == str(uuid.UUID(bytes=bytes(digest)))
    assert task_id_for_token(SESSION, "order-42", "alice") != task_id_for_token(SESSION, "order-42")
    assert task_id_for_token(SESSION, "order-42", "alice") != task_id_for_token(SESSION, "order-42", "bob")
    record = TaskRecord(SESSION, "t-1", TaskStatus.COMPLETED, "sleep", "{}", 0.0, 0.0, 0.0, 0)
    session_hash = hashlib.sha256(SESSION.encode()).hexdigest()
    assert result_key(record) == f"results/{session_hash}/t-1"
    alice_hash = hashlib.sha256(b"alice").hexdigest()
    assert result_key(record.replace(owner="alice")) == f"results/{session_hash}/{alice_hash}/t-1"


@pytest.fixture
def jwt_agent() -> Iterator[TestClient]:
    with TestClient(create_app(load_settings({**UNIT_ENV, "AGENT_AUTH": "jwt"}))) as client:
        yield client


def invoke(client: TestClient, who: str | None, payload: dict[str, object]) -> dict[str, Any]:
    headers = {SESSION_HEADER: SESSION}
    if who is not None:
        headers["Authorization"] = unsigned({"sub": who})
    response = client.post("/invocations", json=payload, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_same_session_other_subject_sees_task_not_found(jwt_agent: TestClient) -> None:
    started = invoke(jwt_agent, "alice", {"action": "start_background_task", "duration": 0.05})
    task_id = started["task_id"]
    for payload in (
        {"action": "get_task_result", "task_id": task_id},
        {"action": "get_task_result", "task_id": task_id, "wait_seconds": 0.1},
        {"action": "cancel_task", "task_id": task_id},
    ):
        assert invoke(jwt_agent, "bob", payload)["error"] == {
            "code": "TaskNotFound",
            "message": f"no task {task_id} in this session",
        }
    assert invoke(jwt_agent, "bob", {"action": "list_tasks"})["tasks"] == []
    mine = invoke(jwt_agent, "alice", {"action": "list_tasks"})["tasks"]
    assert [task["task_id"] for task in mine] == [task_id]
    assert invoke(jwt_agent, None, {"action": "list_tasks"})["error"]["code"] == "Unauthenticated"
