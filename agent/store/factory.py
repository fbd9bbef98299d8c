"""The one place that turns settings into stores."""

from __future__ import annotations

from agent.engine import Stores
from agent.settings import Settings
from agent.store.base import TaskStore


def build_stores(settings: Settings) -> Stores:
    """Task store by ``settings.backend``; Redis (ephemeral tasks + result cache) and S3 when configured."""
    tasks: TaskStore
    if settings.backend == "dynamodb":
        from agent.store.dynamodb import DynamoStore  # noqa: PLC0415 - boto3 only when used

        assert settings.table_name is not None  # enforced by Settings
        tasks = DynamoStore(settings.table_name, max_connections=settings.io_threads)
    elif settings.backend == "memory":
        from agent.store.memory import MemoryStore  # noqa: PLC0415

        tasks = MemoryStore()
    else:
        from agent.store.sqlite import SqliteStore  # noqa: PLC0415

        tasks = SqliteStore(settings.sqlite_path)
    stores = Stores(tasks=tasks)
    if settings.redis_url:
        from agent.store.redis_store import RedisCache, RedisStore  # noqa: PLC0415

        stores = Stores(
            tasks=tasks,
            ephemeral=RedisStore(settings.redis_url, max_connections=settings.io_threads),
            cache=RedisCache(
                settings.redis_url,
                ttl_seconds=settings.cache_ttl_seconds,
                max_connections=settings.io_threads,
            ),
        )
    if settings.bucket_name:
        from agent.store.s3 import S3Blobs, result_key  # noqa: PLC0415

        stores = Stores(
            tasks=stores.tasks,
            ephemeral=stores.ephemeral,
            cache=stores.cache,
            blobs=S3Blobs(settings.bucket_name, max_connections=settings.io_threads),
            blob_key=result_key,
        )
    return stores
