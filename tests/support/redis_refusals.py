"""Ways a live redis-server refuses writes while still answering reads, as a managed cache does when it
is full or after a failover left clients on the old primary."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import redis

from tests.support.servers import RedisServer, running_redis
from tests.support.waiting import eventually

Refusal = Callable[[RedisServer], AbstractContextManager[None]]


@contextmanager
def memory_full(server: RedisServer) -> Iterator[None]:
    """``maxmemory`` below what is used, with ``noeviction``: every write is refused with OOM."""
    client = redis.Redis.from_url(server.url)
    try:
        client.config_set("maxmemory-policy", "noeviction")
        client.config_set("maxmemory", 1)
        yield
    finally:
        client.config_set("maxmemory", 0)
        client.close()


def _replication(client: redis.Redis) -> dict[str, object]:
    info: dict[str, object] = client.info("replication")
    return info


@contextmanager
def demoted(server: RedisServer) -> Iterator[None]:
    """A failover that leaves ``server`` a read-only replica (writes refused with READONLY), keeping its
    data: a second server replicates it, writes pause while that one catches up and takes over, and
    ``server`` follows it. On exit ``server`` is a primary again."""
    with running_redis() as successor:
        old = redis.Redis.from_url(server.url)
        new = redis.Redis.from_url(successor.url)
        try:
            for client in (old, new):  # start each full sync at once, not after the default 5 s
                client.config_set("repl-diskless-sync-delay", 0)
            new.replicaof("127.0.0.1", server.port)
            eventually(lambda: _replication(new).get("master_link_status") == "up", what="the replica's sync")
            old.execute_command("CLIENT", "PAUSE", 5000, "WRITE")
            offset = _replication(old)["master_repl_offset"]
            eventually(
                lambda: _replication(new)["master_repl_offset"] == offset, what="the replica to catch up"
            )
            new.replicaof("NO", "ONE")
            old.replicaof("127.0.0.1", successor.port)
            old.execute_command("CLIENT", "UNPAUSE")
            eventually(lambda: _replication(old).get("master_link_status") == "up", what="the demotion")
            yield
        finally:
            old.execute_command("CLIENT", "UNPAUSE")
            old.replicaof("NO", "ONE")
            old.close()
            new.close()
