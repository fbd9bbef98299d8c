"""The Redis store needs the ``noeviction`` policy: an evicting server drops task records under memory
pressure, and an ephemeral task then simply vanishes. Checked once at start, off the request path."""

from __future__ import annotations

import logging
import threading
from typing import Final

import redis
from redis.credentials import CredentialProvider

from agent.store.retries import REDIS_SOCKET_TIMEOUT_SECONDS

log = logging.getLogger("agent.store")
REQUIRED: Final = "noeviction"


def eviction_policy(client: redis.Redis) -> str | None:
    """The server's ``maxmemory-policy``, or None when it will not say: ElastiCache refuses CONFIG
    (its policy is set in the parameter group), and a server that cannot be reached says nothing."""
    try:
        answer = client.config_get("maxmemory-policy")
    except redis.RedisError:
        return None
    policy = answer.get("maxmemory-policy")
    return None if policy is None else str(policy)


def check_eviction_policy(url: str, auth: CredentialProvider | None) -> None:
    """Log the policy Redis reports; a warning when it may evict. One try, never raising."""
    client = redis.Redis.from_url(
        url,
        credential_provider=auth,
        socket_timeout=REDIS_SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_SOCKET_TIMEOUT_SECONDS,
        decode_responses=True,
    )
    try:
        policy = eviction_policy(client)
    finally:
        client.close()
    if policy is None or policy == REQUIRED:
        log.info("Redis eviction policy checked", extra={"maxmemory_policy": policy})
    else:
        log.warning(
            "Redis evicts keys under memory pressure: the store needs maxmemory-policy noeviction",
            extra={"maxmemory_policy": policy},
        )


def check_in_background(url: str, auth: CredentialProvider | None) -> None:
    """Run :func:`check_eviction_policy` on a thread of its own: a slow Redis never delays a start."""
    threading.Thread(target=check_eviction_policy, args=(url, auth), name="redis-policy", daemon=True).start()
