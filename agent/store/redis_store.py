"""Redis/Valkey: the store for ``retention: "ephemeral"`` tasks and a cache of finished results.

Keys carry a hash tag derived from the session id, so every multi-key script touches
one cluster slot (ElastiCache Serverless runs in cluster mode). Transitions run as
Lua scripts: the status check and the write are one atomic step.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import redis
from redis.credentials import CredentialProvider

from agent.records import TaskRecord, TaskStatus
from agent.settings import RUNTIME_MAX_SECONDS
from agent.store.base import Cursor, live, older_than

CREATE_SCRIPT = """
if ARGV[6] ~= '' then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[6]) end
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HGET', KEYS[1], 'record') end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'record', ARGV[2])
redis.call('EXPIREAT', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
if redis.call('TTL', KEYS[2]) < 0 then redis.call('EXPIREAT', KEYS[2], ARGV[3])
else redis.call('EXPIREAT', KEYS[2], ARGV[3], 'GT') end
return false
"""
_HEARTBEAT = """
if redis.call('HGET', KEYS[1], 'status') ~= 'RUNNING' then return 0 end
redis.call('HSET', KEYS[1], 'progress', ARGV[1], 'heartbeat_at', ARGV[2], 'updated_at', ARGV[2])
return 1
"""
_FINISH = """
if redis.call('HGET', KEYS[1], 'status') ~= 'RUNNING' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'record', ARGV[2])
redis.call('HDEL', KEYS[1], 'progress', 'heartbeat_at', 'updated_at')
return 1
"""


LIST_SLACK = 16
"""Extra index entries read per batch, to cover records sharing the cursor's timestamp."""


def _tag(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()[:24]


def _task_key(session_id: str, task_id: str) -> str:
    return f"agent:{{{_tag(session_id)}}}:task:{task_id}"


def _index_key(session_id: str) -> str:
    return f"agent:{{{_tag(session_id)}}}:tasks"


def _dump(record: TaskRecord) -> str:
    return json.dumps(record.to_item(), separators=(",", ":"))


def _client(url: str, max_connections: int, auth: CredentialProvider | None = None) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        max_connections=max_connections,
        credential_provider=auth,
        socket_timeout=5,
        socket_connect_timeout=5,
        decode_responses=True,
    )


class RedisStore:
    """Ephemeral task records: expire with their TTL, never written to the durable store."""

    def __init__(
        self,
        url: str,
        max_connections: int = 32,
        auth: CredentialProvider | None = None,
        ttl_seconds: int | None = None,
    ) -> None:
        """``ttl_seconds`` (the ephemeral TTL) lets each create drop index entries that must have
        expired; without it a session's index only shrinks when the whole index expires."""
        self._redis = _client(url, max_connections, auth)
        self._ttl = ttl_seconds
        self._create = self._redis.register_script(CREATE_SCRIPT)
        self._heartbeat = self._redis.register_script(_HEARTBEAT)
        self._finish = self._redis.register_script(_FINISH)

    def create(self, record: TaskRecord) -> TaskRecord:
        """Insert unless present (atomically), indexing it for listing; returns the stored record."""
        # No task outlives created_at + the longest duration + the TTL, so older entries are stale.
        stale_before = "" if self._ttl is None else repr(record.created_at - RUNTIME_MAX_SECONDS - self._ttl)
        existing = self._create(
            keys=[_task_key(record.session_id, record.task_id), _index_key(record.session_id)],
            args=[
                record.status.value,
                _dump(record),
                record.expires_at,
                repr(record.created_at),
                record.task_id,
                stale_before,
            ],
        )
        if existing:
            stored = self.get(record.session_id, record.task_id)
            return stored or TaskRecord.from_item(json.loads(existing))
        return record

    def get(self, session_id: str, task_id: str) -> TaskRecord | None:
        """The record with its latest heartbeat fields, or None (also once expired)."""
        fields = self._redis.hgetall(_task_key(session_id, task_id))
        return _from_hash({str(k): v for k, v in fields.items()})

    def heartbeat(self, session_id: str, task_id: str, progress: float, now: float) -> bool:
        """Refresh a RUNNING record."""
        return bool(self._heartbeat(keys=[_task_key(session_id, task_id)], args=[repr(progress), repr(now)]))

    def finish(self, record: TaskRecord) -> bool:
        """Terminal write only over RUNNING."""
        return bool(
            self._finish(
                keys=[_task_key(record.session_id, record.task_id)], args=[record.status.value, _dump(record)]
            )
        )

    def list(self, session_id: str, limit: int, cursor: Cursor | None, now: float) -> list[TaskRecord]:
        """Newest first from the session's sorted-set index, skipping (and unindexing) entries whose
        record has expired, until ``limit`` live records are found or the index ends."""
        index = _index_key(session_id)
        top = "+inf" if cursor is None else repr(cursor.created_at)
        records: list[TaskRecord] = []
        seen: set[str] = set()  # a concurrent create shifts positions: never return a record twice
        offset = 0
        batch = limit + LIST_SLACK
        while len(records) < limit:
            ids = [str(i) for i in self._redis.zrevrangebyscore(index, top, "-inf", start=offset, num=batch)]
            if not ids:
                break
            offset += len(ids)
            expired = []
            for task_id in ids:
                if task_id in seen:
                    continue
                seen.add(task_id)
                record = self.get(session_id, task_id)
                if record is None or not live(record, now):
                    expired.append(task_id)
                elif older_than(record, cursor) and len(records) < limit:
                    records.append(record)
            if expired:
                self._redis.zrem(index, *expired)
                offset -= len(expired)
        return records

    def close(self) -> None:
        """Close the connection pool."""
        self._redis.close()


def _from_hash(fields: dict[str, Any]) -> TaskRecord | None:
    if not fields or "record" not in fields:
        return None
    record = TaskRecord.from_item(json.loads(fields["record"]))
    if record.status is TaskStatus.RUNNING and "heartbeat_at" in fields:
        record = record.replace(
            progress=float(fields["progress"]),
            heartbeat_at=float(fields["heartbeat_at"]),
            updated_at=float(fields["updated_at"]),
        )
    return record


class RedisCache:
    """Finished task records cached for hot polling (a finished record never changes)."""

    def __init__(
        self, url: str, ttl_seconds: int, max_connections: int = 32, auth: CredentialProvider | None = None
    ) -> None:
        self._redis = _client(url, max_connections, auth)
        self._ttl = ttl_seconds

    @staticmethod
    def _key(session_id: str, task_id: str) -> str:
        return f"agent:{{{_tag(session_id)}}}:result:{task_id}"

    def get(self, session_id: str, task_id: str) -> TaskRecord | None:
        """The cached record, or None."""
        text = self._redis.get(self._key(session_id, task_id))
        return None if text is None else TaskRecord.from_item(json.loads(text))

    def put(self, record: TaskRecord) -> None:
        """Cache a finished record for the cache TTL."""
        if record.status.finished:
            self._redis.set(self._key(record.session_id, record.task_id), _dump(record), ex=self._ttl)

    def close(self) -> None:
        """Close the connection pool."""
        self._redis.close()
