"""The cache on AWS needs TLS and IAM auth; the agent authenticates with short-lived tokens.

The deployed user group holds only the agent's IAM user (a Valkey group may hold no password-less
user, see ``tests/infra/aws_rules.py``), so no user exists that a connection could act as without
authenticating. Locally a redis-server with the default user switched off (nobody to be without
AUTH) and the agent's user given the exact ACL the stack deploys stands in for ElastiCache (which
alone can verify the token's signature; the signature itself is checked here with the test
credentials).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Final

import pytest
import redis

from agent.store.redis_auth import TOKEN_SECONDS, ElastiCacheIamAuth
from agentcore_async.cdk.result_cache import AGENT_ACCESS_STRING
from tests.hardening.sigv4 import EMPTY_PAYLOAD, presigned_params, signature_valid
from tests.hardening.tasks import finished, new_session, start
from tests.hardening.templates import STAGES, Template
from tests.support.agent_process import running_agent
from tests.support.servers import RedisServer, running_redis

USER: Final = "agentcore-async-test-agent"
CACHE: Final = "agentcore-async-test"
ADMIN_PASSWORD: Final = "admin-only-in-this-test"


def test_the_token_is_a_presigned_connect_for_this_user_and_cache() -> None:
    auth = ElastiCacheIamAuth(USER, CACHE)
    user, token = auth.get_credentials()
    assert user == USER
    assert token.startswith(f"{CACHE}/?")
    url = f"https://{token}"
    params = presigned_params(url)
    assert (params["Action"], params["User"], params["ResourceType"]) == ("connect", USER, "ServerlessCache")
    assert int(params["X-Amz-Expires"]) == TOKEN_SECONDS
    assert "/elasticache/aws4_request" in params["X-Amz-Credential"]
    secret = os.environ["AWS_SECRET_ACCESS_KEY"]
    assert signature_valid(url, secret, EMPTY_PAYLOAD)
    assert not signature_valid(url.replace(USER, "someone-else"), secret, EMPTY_PAYLOAD)
    assert auth.get_credentials() == (user, token)  # reused for new connections until near expiry


@pytest.fixture
def acl_redis() -> Iterator[RedisServer]:
    """A private redis-server: default user off, the agent's user with the deployed ACL."""
    with running_redis() as server:
        admin = redis.Redis(host="127.0.0.1", port=server.port)
        words = AGENT_ACCESS_STRING.split()
        # nopass: any token is accepted, as only ElastiCache can check its signature.
        admin.acl_setuser(
            USER,
            enabled="on" in words,
            nopass=True,
            reset=True,
            keys=[word[1:] for word in words if word.startswith("~")],
            commands=[word for word in words if word[0] in "+-"],
        )
        admin.acl_setuser(
            "admin", enabled=True, passwords=[f"+{ADMIN_PASSWORD}"], keys=["*"], commands=["+@all"]
        )
        admin.acl_setuser("default", enabled=False)
        admin.close()
        yield server


def test_the_agent_works_through_the_deployed_acl_only_when_authenticated(
    acl_redis: RedisServer, tmp_path: os.PathLike[str]
) -> None:
    env = {
        "AGENT_SQLITE_PATH": f"{tmp_path}/tasks.sqlite3",
        "AGENT_REDIS_URL": acl_redis.url,
        "AGENT_HEARTBEAT_SECONDS": "0.2",
        "AGENT_LEASE_SECONDS": "2",
        "AGENT_WRITE_ATTEMPTS": "2",
        "AGENT_LOG_LEVEL": "WARNING",
    }
    session = new_session()
    with running_agent({**env, "AGENT_REDIS_IAM_USER": USER, "AGENT_REDIS_CACHE_NAME": CACHE}) as agent:
        ephemeral = start(agent, session, 0.2, retention="ephemeral")["task_id"]
        durable = start(agent, session, 0.1)["task_id"]
        assert finished(agent, session, ephemeral)["status"] == "COMPLETED"
        assert finished(agent, session, durable)["status"] == "COMPLETED"  # and cached in Redis
        admin = redis.Redis(host="127.0.0.1", port=acl_redis.port, username="admin", password=ADMIN_PASSWORD)
        users = {client["user"] for client in admin.client_list()}
        keys = [key.decode() for key in admin.scan_iter()]
        admin.close()
        assert USER in users
        assert keys
        assert all(key.startswith("agent:") for key in keys)

    unauthenticated = redis.Redis(host="127.0.0.1", port=acl_redis.port)
    with pytest.raises(redis.AuthenticationError):
        unauthenticated.set("agent:anonymous", "1")
    unauthenticated.close()

    with running_agent(env) as anonymous:  # no IAM user configured: the cache refuses it
        status, body = anonymous.invoke(
            {"action": "start_background_task", "duration": 0.1, "retention": "ephemeral"}, new_session()
        )
        assert (status, body["error"]["code"]) == (200, "StorageUnavailable")


@pytest.mark.parametrize("stage", STAGES)
def test_the_deployed_cache_requires_iam_auth(templates: list[Template], stage: str) -> None:
    stage_templates = [t for t in templates if t.stage == stage]
    caches = [r for t in stage_templates for _, r in t.resources("AWS::ElastiCache::ServerlessCache")]
    if not caches:
        return
    [storage] = [t for t in stage_templates if t.stack_name.endswith("-Storage")]
    [cache] = caches
    groups = dict(storage.resources("AWS::ElastiCache::UserGroup"))
    group_id = cache["Properties"]["UserGroupId"]["Ref"]
    users = dict(storage.resources("AWS::ElastiCache::User"))
    members = [users[ref["Ref"]]["Properties"] for ref in groups[group_id]["Properties"]["UserIds"]]
    assert members
    for member in members:  # only the agent's IAM user: nobody to connect as without a token
        assert member["AuthenticationMode"] == {"Type": "iam"}, member
        assert "Passwords" not in member and "NoPasswordRequired" not in member
        assert member["UserName"] != "default"
        assert member["AccessString"] == AGENT_ACCESS_STRING
    [runtime] = [t for t in stage_templates if t.stack_name.endswith("-Runtime")]
    [agent_runtime] = [r for _, r in runtime.resources("AWS::BedrockAgentCore::Runtime")]
    variables = agent_runtime["Properties"]["EnvironmentVariables"]
    assert {"AGENT_REDIS_URL", "AGENT_REDIS_IAM_USER", "AGENT_REDIS_CACHE_NAME"} <= set(variables)
