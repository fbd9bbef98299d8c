"""Session isolation at every API, and presigned result URLs that are short-lived and scoped to one object."""

from __future__ import annotations

import hashlib
import os
import urllib.request
from collections.abc import Iterator
from typing import Final
from urllib.parse import unquote, urlsplit

import pytest

from tests.agent.aws import AwsResources, create_resources
from tests.hardening.sigv4 import presigned_params, signature_valid
from tests.hardening.tasks import finished, get, list_ids, new_session, start
from tests.support.agent_process import AgentProcess, running_agent
from tests.support.servers import MotoServer, RedisServer

LARGE: Final = 6000
"""Above the presign threshold below: such a result is handed out as a URL."""
MAX_URL_SECONDS: Final = 3600


@pytest.fixture(scope="module")
def aws(moto_server: MotoServer) -> AwsResources:
    """A fresh table and bucket on the shared moto server."""
    return create_resources(moto_server)


@pytest.fixture(scope="module")
def agent(aws: AwsResources, redis_server: RedisServer) -> Iterator[AgentProcess]:
    """An agent on DynamoDB + S3 + Redis with small thresholds and the default URL expiry."""
    env = {
        **aws.env(),
        "AGENT_REDIS_URL": redis_server.url,
        "AGENT_S3_THRESHOLD_BYTES": "1024",
        "AGENT_PRESIGN_THRESHOLD_BYTES": "2048",
        "AGENT_HEARTBEAT_SECONDS": "0.2",
        "AGENT_LEASE_SECONDS": "5",
        "AGENT_LOG_LEVEL": "WARNING",
    }
    with running_agent(env) as process:
        yield process


def _refused(agent: AgentProcess, session: str, payload: dict[str, object], task_id: str) -> None:
    status, body = agent.invoke(payload, session, timeout=30)
    assert status == 200, body
    assert body["error"]["code"] == "TaskNotFound"
    assert set(body) == {"error"}
    assert task_id in body["error"]["message"]  # only what the caller already knew


def test_a_session_never_sees_or_touches_another_sessions_tasks(agent: AgentProcess) -> None:
    owner, other = new_session(), new_session()
    durable = start(agent, owner, 0.1)["task_id"]
    large = start(agent, owner, 0.1, result_bytes=LARGE)["task_id"]
    ephemeral = start(agent, owner, 0.1, retention="ephemeral")["task_id"]
    running = start(agent, owner, 60)["task_id"]
    for task_id in (durable, large, ephemeral):
        assert finished(agent, owner, task_id)["status"] == "COMPLETED"
    mine = {durable, large, ephemeral, running}

    for task_id in mine:
        _refused(agent, other, {"action": "get_task_result", "task_id": task_id}, task_id)
        _refused(agent, other, {"action": "get_task_result", "task_id": task_id, "wait_seconds": 1}, task_id)
        _refused(agent, other, {"action": "cancel_task", "task_id": task_id}, task_id)
    assert list_ids(agent, other) == []
    assert set(list_ids(agent, owner)) == mine
    # The other session's cancel changed nothing.
    assert get(agent, owner, running)["status"] == "RUNNING"

    # The same client token in another session is another task.
    theirs = start(agent, other, 0.1, client_token="shared-token")["task_id"]
    ours = start(agent, owner, 0.1, client_token="shared-token")["task_id"]
    assert theirs != ours
    assert list_ids(agent, other) == [theirs]
    status, _ = agent.invoke({"action": "cancel_task", "task_id": running}, owner)
    assert status == 200


def test_result_urls_are_short_lived_and_scoped_to_one_object(agent: AgentProcess, aws: AwsResources) -> None:
    owner, other = new_session(), new_session()
    first = start(agent, owner, 0.1, result_bytes=LARGE)["task_id"]
    second = start(agent, owner, 0.1, result_bytes=LARGE + 1)["task_id"]
    views = {task_id: finished(agent, owner, task_id) for task_id in (first, second)}
    urls = {task_id: view["result_url"] for task_id, view in views.items()}
    assert all("result" not in view for view in views.values())

    for task_id, url in urls.items():
        params = presigned_params(url)
        assert 0 < int(params["X-Amz-Expires"]) <= MAX_URL_SECONDS
        assert params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
        path = unquote(urlsplit(url).path)
        session_hash = hashlib.sha256(owner.encode()).hexdigest()
        assert path == f"/{aws.bucket}/results/{session_hash}/{task_id}.result-1"  # attempt 1's object
        assert signature_valid(url, os.environ["AWS_SECRET_ACCESS_KEY"])
        with urllib.request.urlopen(url, timeout=10) as response:
            body = response.read()
        assert len(body) == (LARGE if task_id == first else LARGE + 1)

    # Pointing one URL at the other object breaks its signature: a URL opens exactly one object.
    swapped = urls[first].replace(first, second)
    assert swapped != urls[first]
    assert not signature_valid(swapped, os.environ["AWS_SECRET_ACCESS_KEY"])
    # Another session gets no URL at all.
    _refused(agent, other, {"action": "get_task_result", "task_id": first}, first)
