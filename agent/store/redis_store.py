"""Redis/Valkey: the store for ``retention: "ephemeral"`` tasks and a cache of finished results.

Keys carry a hash tag derived from the session id, so every multi-key script touches
one cluster slot (ElastiCache Serverless runs in cluster mode). Transitions run as
Lua scripts: the status check and the write are one atomic step.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import redis
from redis.credentials import CredentialProvider
from redis.retry import Retry

from agent.records import TaskRecord, TaskStatus
from agent.settings import RUNTIME_MAX_SECONDS
from agent.store.base import UNFINISHED_STATUSES, Beat, Cursor, live, live_now, older_than, owned_by
from agent.store.decoding import record_from_item, record_from_json
from agent.store.retries import CACHE_SOCKET_TIMEOUT_SECONDS, REDIS_SOCKET_TIMEOUT_SECONDS, redis_retry

CREATE_SCRIPT = """
if ARGV[6] ~= '' then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[6]) end
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HGET', KEYS[1], 'record') end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'attempt', ARGV[7], 'record', ARGV[2])
redis.call('EXPIREAT', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
if redis.call('TTL', KEYS[2]) < 0 then redis.call('EXPIREAT', KEYS[2], ARGV[3])
else redis.call('EXPIREAT', KEYS[2], ARGV[3], 'GT') end
return false
"""
_BEAT = """
if redis.call('HGET', KEYS[1], 'status') ~= 'RUNNING' or redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[1]
then return 0 end
local expiry = redis.call('HGET', KEYS[1], 'expires_at')
if not expiry then
  local ok, record = pcall(cjson.decode, redis.call('HGET', KEYS[1], 'record'))
  if ok and type(record) == 'table' then expiry = record['expires_at'] end
end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if tonumber(expiry) and tonumber(expiry) > tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'expires_at', string.format('%d', tonumber(expiry)))
end
redis.call('EXPIREAT', KEYS[1], ARGV[2], 'GT')
redis.call('EXPIREAT', KEYS[2], ARGV[2], 'GT')
return 1
"""
_TRANSITION = """
if redis.call('HGET', KEYS[1], 'status') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[2]
then return 0 end
if ARGV[7] ~= '' then
  local beat = redis.call('HGET', KEYS[1], 'heartbeat_at')
  if not beat then beat = cjson.decode(redis.call('HGET', KEYS[1], 'record'))['heartbeat_at'] end
  if tonumber(beat) ~= tonumber(ARGV[7]) then return 0 end
end
redis.call('HSET', KEYS[1], 'status', ARGV[3], 'attempt', ARGV[4], 'record', ARGV[5])
redis.call('HDEL', KEYS[1], 'progress', 'message', 'heartbeat_at', 'updated_at', 'expires_at',
    'checkpoint', 'checkpoint_key', 'announce_pending')
redis.call('EXPIREAT', KEYS[1], ARGV[6])
redis.call('EXPIREAT', KEYS[2], ARGV[6], 'GT')
return 1
"""
_CLEAR_ANNOUNCED = """
if redis.call('HGET', KEYS[1], 'status') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[2]
then return 0 end
redis.call('HSET', KEYS[1], 'announce_pending', '[]')
return 1
"""
OVERLAY = (
    "progress",
    "message",
    "heartbeat_at",
    "updated_at",
    "expires_at",
    "checkpoint",
    "checkpoint_key",
    "announce_pending",
)
"""Fields written next to the record (as JSON values), by a beat and by clearing what a record
owes; a transition replaces them with its record."""

LIST_SLACK = 16
"""Extra index entries read per batch, to cover records sharing the cursor's timestamp."""


def _tag(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()[:24]


def task_key(session_id: str, task_id: str) -> str:
    return f"agent:{{{_tag(session_id)}}}:task:{task_id}"


def index_key(session_id: str) -> str:
    return f"agent:{{{_tag(session_id)}}}:tasks"


def _dump(record: TaskRecord) -> str:
    return json.dumps(record.to_item(), separators=(",", ":"))


def _client(
    url: str,
    max_connections: int,
    auth: CredentialProvider | None,
    retry: Retry,
    timeout: float = REDIS_SOCKET_TIMEOUT_SECONDS,
) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        max_connections=max_connections,
        credential_provider=auth,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=retry,
        decode_responses=True,
    )


class RedisStore:
    """Ephemeral task records: expire with their TTL, never written to the durable store."""

    def __init__(
        self,
        url: str,
        *,
        max_connections: int = 32,
        auth: CredentialProvider | None = None,
        ttl_seconds: int | None = None,
        horizon_seconds: float = RUNTIME_MAX_SECONDS,
        retry: Retry | None = None,
    ) -> None:
        """``ttl_seconds`` (the ephemeral TTL) and ``horizon_seconds`` (the longest a task can run,
        resumes included) let each create drop index entries that must have expired; without
        them a session's index only shrinks when the whole index expires or a listing prunes it."""
        self._redis = _client(url, max_connections, auth, retry or redis_retry(attempts=4, base_seconds=0.1))
        self._ttl = ttl_seconds
        self._horizon = horizon_seconds
        self._create = self._redis.register_script(CREATE_SCRIPT)
        self._beat = self._redis.register_script(_BEAT)
        self._transition = self._redis.register_script(_TRANSITION)
        self._clear_announced = self._redis.register_script(_CLEAR_ANNOUNCED)

    def create(self, record: TaskRecord) -> TaskRecord:
        """Insert unless present (atomically), indexing it for listing; returns the stored record."""
        stale_before = "" if self._ttl is None else repr(record.created_at - self._horizon - self._ttl)
        existing = self._create(
            keys=[task_key(record.session_id, record.task_id), index_key(record.session_id)],
            args=[
                record.status.value,
                _dump(record),
                record.expires_at,
                repr(record.created_at),
                record.task_id,
                stale_before,
                record.attempt,
            ],
        )
        if existing:
            stored = self.get(record.session_id, record.task_id)
            return stored or record_from_json(record.session_id, record.task_id, existing)
        return record

    def get(self, session_id: str, task_id: str) -> TaskRecord | None:
        """The record with its latest beat applied, or None (also once expired)."""
        return self._read(session_id, task_id, self._fields(session_id, task_id))

    def _fields(self, session_id: str, task_id: str) -> dict[str, Any]:
        return {str(k): v for k, v in self._redis.hgetall(task_key(session_id, task_id)).items()}

    @staticmethod
    def _read(session_id: str, task_id: str, fields: dict[str, Any]) -> TaskRecord | None:
        # Redis removes it at its expiry by its own clock; within that second, the record's rules.
        return live_now(_from_hash(session_id, task_id, fields))

    def beat(self, session_id: str, task_id: str, attempt: int, beat: Beat) -> bool:
        """Apply a beat to a RUNNING record of this attempt; its expiry moves only later."""
        overlay: dict[str, object] = {
            "progress": beat.progress,
            "message": beat.message,
            "heartbeat_at": beat.at,
            "updated_at": beat.at,
            "expires_at": beat.expires_at,
        }
        if beat.checkpoint is not None:
            overlay["checkpoint"], overlay["checkpoint_key"] = beat.checkpoint
        pairs = [part for name, value in overlay.items() for part in (name, json.dumps(value))]
        return bool(
            self._beat(
                keys=[task_key(session_id, task_id), index_key(session_id)],
                args=[attempt, beat.expires_at, *pairs],
            )
        )

    def transition(
        self, record: TaskRecord, expected: TaskStatus, attempt: int, *, beat_at: float | None = None
    ) -> bool:
        """Replace the record only if it is ``expected`` at ``attempt`` (beating at ``beat_at``)."""
        return bool(
            self._transition(
                keys=[task_key(record.session_id, record.task_id), index_key(record.session_id)],
                args=[
                    expected.value,
                    attempt,
                    record.status.value,
                    record.attempt,
                    _dump(record),
                    record.expires_at,
                    "" if beat_at is None else repr(beat_at),
                ],
            )
        )

    def clear_announced(self, session_id: str, task_id: str, status: TaskStatus, attempt: int) -> bool:
        """Mark nothing owed beside the record (an overlay field), atomically with the status check."""
        return bool(self._clear_announced(keys=[task_key(session_id, task_id)], args=[status.value, attempt]))

    def unfinished(self, session_id: str) -> list[TaskRecord]:
        """RUNNING and SUSPENDED records of the session, from its index. Chosen by the stored status,
        like the other stores: one this version cannot otherwise read comes back as its stand-in."""
        records = []
        for task_id in self._redis.zrange(index_key(session_id), 0, -1):
            fields = self._fields(session_id, str(task_id))
            if fields.get("status") in UNFINISHED_STATUSES:
                record = self._read(session_id, str(task_id), fields)
                if record is not None:
                    records.append(record)
        return records

    def announcing(self, session_id: str) -> list[TaskRecord]:
        """Records of the session that still owe an announcement, from its index."""
        records = []
        for task_id in self._redis.zrange(index_key(session_id), 0, -1):
            record = self.get(session_id, str(task_id))
            if record is not None and record.announce_pending:
                records.append(record)
        return records

    def open_records(self, session_id: str) -> list[TaskRecord]:
        """Records of the session, from its index, that are unfinished (by stored status) or owe an
        announcement: one walk of the index for both reads above."""
        records = []
        for task_id in self._redis.zrange(index_key(session_id), 0, -1):
            fields = self._fields(session_id, str(task_id))
            record = self._read(session_id, str(task_id), fields)
            if record is not None and (
                fields.get("status") in UNFINISHED_STATUSES or record.announce_pending
            ):
                records.append(record)
        return records

    def list(
        self, session_id: str, limit: int, cursor: Cursor | None, now: float, owner: str | None = None
    ) -> list[TaskRecord]:
        """Newest first from the session's sorted-set index, skipping (and unindexing) entries whose
        record has expired and skipping other owners' records, until ``limit`` live records of
        ``owner`` are found or the index ends."""
        index = index_key(session_id)
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
                elif owned_by(record, owner) and older_than(record, cursor) and len(records) < limit:
                    records.append(record)
            if expired:
                self._redis.zrem(index, *expired)
                offset -= len(expired)
        return records

    def close(self) -> None:
        """Close the connection pool."""
        self._redis.close()


def _from_hash(session_id: str, task_id: str, fields: dict[str, Any]) -> TaskRecord | None:
    if not fields or "record" not in fields:
        return None
    try:
        overlay = {name: json.loads(fields[name]) for name in OVERLAY if name in fields}
        item = {**json.loads(fields["record"]), **overlay}
    except (ValueError, TypeError):  # not JSON, or not an object
        return record_from_json(session_id, task_id, "")
    return record_from_item(session_id, task_id, item)


class RedisCache:
    """Finished task records cached for hot polling (a finished record never changes)."""

    def __init__(
        self, url: str, ttl_seconds: int, max_connections: int = 32, auth: CredentialProvider | None = None
    ) -> None:
        # Its own client, no retries and short timeouts: a cache miss is cheaper than waiting for it.
        no_retry = redis_retry(attempts=1, base_seconds=0.0)
        self._redis = _client(url, max_connections, auth, no_retry, timeout=CACHE_SOCKET_TIMEOUT_SECONDS)
        self._ttl = ttl_seconds

    @staticmethod
    def _key(session_id: str, task_id: str) -> str:
        return f"agent:{{{_tag(session_id)}}}:result:{task_id}"

    def get(self, session_id: str, task_id: str) -> TaskRecord | None:
        """The cached record, or None: a miss, an expired record (checked like any store read) or
        one this version cannot read (a newer version's, sharing the cache during a rollout)."""
        text = self._redis.get(self._key(session_id, task_id))
        if text is None:
            return None
        record = record_from_json(session_id, task_id, str(text))
        return None if record.status is TaskStatus.UNREADABLE else live_now(record)

    def put(self, record: TaskRecord) -> None:
        """Cache a finished record for the cache TTL, or until the record expires if that is sooner."""
        seconds = min(self._ttl, record.expires_at - int(time.time()))
        if record.status.finished and seconds > 0:
            self._redis.set(self._key(record.session_id, record.task_id), _dump(record), ex=seconds)

    def close(self) -> None:
        """Close the connection pool."""
        self._redis.close()
