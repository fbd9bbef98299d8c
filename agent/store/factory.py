"""The one place that turns settings into stores (and the announcer that sits next to them)."""

from __future__ import annotations

import dataclasses

from agent.announce.announcer import Announcer
from agent.settings import Settings, SettingsError
from agent.store.base import Stores, TaskStore
from agentcore_async.contract import EnvVar


def _task_store(settings: Settings) -> TaskStore:
    # Backends import their drivers lazily: a local SQLite agent never loads boto3's DynamoDB model.
    if settings.backend == "dynamodb":
        from agent.store.dynamodb import DynamoStore  # noqa: PLC0415

        assert settings.table_name is not None  # enforced by Settings
        return DynamoStore(
            settings.table_name, attempts=settings.write_attempts, max_connections=settings.io_threads
        )
    if settings.backend == "memory":
        from agent.store.memory import MemoryStore  # noqa: PLC0415

        return MemoryStore()
    from agent.store.sqlite import SqliteStore, UnusablePathError  # noqa: PLC0415

    try:
        return SqliteStore(settings.sqlite_path)
    except UnusablePathError as exc:
        raise SettingsError(f"{EnvVar.SQLITE_PATH}: {exc}") from None


def build_stores(settings: Settings) -> Stores:
    """Task store by ``settings.backend``; Redis (ephemeral tasks + result cache) and S3 when configured."""
    stores = Stores(tasks=_task_store(settings))
    if settings.redis_url:
        from agent.store.redis_auth import ElastiCacheIamAuth  # noqa: PLC0415
        from agent.store.redis_policy import check_in_background  # noqa: PLC0415
        from agent.store.redis_store import RedisCache, RedisStore  # noqa: PLC0415
        from agent.store.retries import redis_retry  # noqa: PLC0415

        auth = None
        if settings.redis_iam_user and settings.redis_cache_name:
            auth = ElastiCacheIamAuth(settings.redis_iam_user, settings.redis_cache_name)
        check_in_background(settings.redis_url, auth)
        stores = dataclasses.replace(
            stores,
            ephemeral=RedisStore(
                settings.redis_url,
                max_connections=settings.io_threads,
                auth=auth,
                ttl_seconds=settings.ephemeral_ttl_seconds,
                horizon_seconds=settings.resumable_seconds,
                retry=redis_retry(attempts=settings.write_attempts, base_seconds=settings.retry_base_seconds),
            ),
            cache=RedisCache(
                settings.redis_url,
                ttl_seconds=settings.cache_ttl_seconds,
                max_connections=settings.io_threads,
                auth=auth,
            ),
        )
    if settings.bucket_name:
        from agent.store.s3 import S3Blobs, result_key  # noqa: PLC0415

        stores = dataclasses.replace(
            stores,
            blobs=S3Blobs(
                settings.bucket_name, attempts=settings.write_attempts, max_connections=settings.io_threads
            ),
            blob_key=result_key,
        )
    return stores


def build_announcer(settings: Settings) -> Announcer:
    """Task-state events on ``settings.event_bus_name`` (when set) and Step Functions callbacks."""
    from agent.announce.stepfunctions import TaskTokenCallbacks  # noqa: PLC0415

    events = None
    if settings.event_bus_name:
        from agent.announce.eventbridge import EventBridgePublisher  # noqa: PLC0415

        events = EventBridgePublisher(
            settings.event_bus_name,
            bucket_name=settings.bucket_name,
            attempts=settings.write_attempts,
            base_seconds=settings.retry_base_seconds,
        )
    callbacks = TaskTokenCallbacks(bucket_name=settings.bucket_name, attempts=settings.write_attempts)
    return Announcer(events, callbacks)
