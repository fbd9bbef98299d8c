"""The Redis result cache answers only what a store read would: a cached record past its expiry, or
one this version cannot read, is a miss (never an error that trips the cache's breaker)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from agent.records import TaskRecord, TaskStatus
from agent.store.redis_store import RedisCache
from tests.support.servers import RedisServer

CACHE_TTL = 300


@pytest.fixture
def cache(redis_server: RedisServer) -> Iterator[RedisCache]:
    cache = RedisCache(redis_server.url, ttl_seconds=CACHE_TTL)
    yield cache
    cache.close()


@pytest.fixture
def raw(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    client.close()


def _finished(expires_in: float) -> TaskRecord:
    now = time.time()
    return TaskRecord(
        session_id=f"session-{uuid.uuid4()}",
        task_id=str(uuid.uuid4()),
        status=TaskStatus.COMPLETED,
        kind="sleep",
        input_json="{}",
        created_at=now - 60,
        updated_at=now,
        heartbeat_at=now,
        expires_at=int(now + expires_in),
        result="done",
    )


def _cached_key(raw: redis.Redis, record: TaskRecord) -> str:
    (key,) = raw.scan_iter(match=f"agent:*:result:{record.task_id}")
    return str(key)


def test_a_cached_record_reads_back(cache: RedisCache) -> None:
    record = _finished(3600)
    cache.put(record)
    assert cache.get(record.session_id, record.task_id) == record


def test_a_cached_record_past_its_expiry_is_a_miss(cache: RedisCache, raw: redis.Redis) -> None:
    record = _finished(3600)
    cache.put(record)
    expired = record.replace(expires_at=int(time.time()) - 5)
    raw.set(_cached_key(raw, record), json.dumps(expired.to_item()), ex=CACHE_TTL)
    assert cache.get(record.session_id, record.task_id) is None


def test_a_cached_copy_lasts_no_longer_than_its_record(cache: RedisCache, raw: redis.Redis) -> None:
    record = _finished(30)
    cache.put(record)
    assert 0 < raw.ttl(_cached_key(raw, record)) <= 30
    gone = _finished(-5)
    cache.put(gone)
    assert list(raw.scan_iter(match=f"agent:*:result:{gone.task_id}")) == []


def test_a_cached_record_this_version_cannot_read_is_a_miss(cache: RedisCache, raw: redis.Redis) -> None:
    record = _finished(3600)
    cache.put(record)
    raw.set(_cached_key(raw, record), json.dumps(record.to_item() | {"status": "PAUSED"}), ex=CACHE_TTL)
    assert cache.get(record.session_id, record.task_id) is None
