"""The agent's environment-variable contract and its validated settings.

This module is the single source of truth for every environment variable the
container reads. ``stacks/`` imports the names from here, so the runtime's
environment and the agent can never drift apart. Nothing is read at import time:
call :func:`load_settings` at start-up.
"""

from __future__ import annotations

from typing import Final


class EnvVar:
    """Names of the environment variables the agent reads."""

    PORT: Final = "PORT"
    STORE_BACKEND: Final = "AGENT_STORE_BACKEND"
    TABLE_NAME: Final = "AGENT_TABLE_NAME"
    BUCKET_NAME: Final = "AGENT_BUCKET_NAME"
    REDIS_URL: Final = "AGENT_REDIS_URL"
    SQLITE_PATH: Final = "AGENT_SQLITE_PATH"
    ALLOW_MEMORY_STORE: Final = "AGENT_ALLOW_MEMORY_STORE"
    MODEL_ID: Final = "AGENT_MODEL_ID"
    MAX_LIFETIME_SECONDS: Final = "AGENT_MAX_LIFETIME_SECONDS"
    IDLE_TIMEOUT_SECONDS: Final = "AGENT_IDLE_TIMEOUT_SECONDS"
    HEARTBEAT_SECONDS: Final = "AGENT_HEARTBEAT_SECONDS"
    LEASE_SECONDS: Final = "AGENT_LEASE_SECONDS"
    RESULT_TTL_SECONDS: Final = "AGENT_RESULT_TTL_SECONDS"
    S3_THRESHOLD_BYTES: Final = "AGENT_S3_THRESHOLD_BYTES"
    PRESIGN_THRESHOLD_BYTES: Final = "AGENT_PRESIGN_THRESHOLD_BYTES"
    LOG_LEVEL: Final = "AGENT_LOG_LEVEL"


class TableSchema:
    """Key and attribute names of the DynamoDB task table (shared with the stack)."""

    PARTITION_KEY: Final = "session_id"
    SORT_KEY: Final = "task_id"
    CREATED_INDEX: Final = "by_created_at"
    CREATED_ATTRIBUTE: Final = "created_at"
    TTL_ATTRIBUTE: Final = "expires_at"


RESULTS_PREFIX: Final = "results/"
"""S3 key prefix under which large results are stored (the bucket's lifecycle rule expires it)."""
