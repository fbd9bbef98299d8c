"""The agent's validated settings, read from the variables named in :class:`agentcore_async.contract.EnvVar`.

The stacks set the same names on the runtime (from :mod:`contract`), so the runtime's environment
and the agent can never drift apart. Nothing is read at import time: call :func:`load_settings`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final, Literal

from pydantic import AliasChoices, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from agentcore_async.contract import (
    AGENTCORE_STOP_GRACE_SECONDS,
    DEFAULT_MODEL_ID,
    TIMER_MAX_SECONDS,
    AuthMode,
    EnvVar,
    MetricsMode,
)

StoreBackend = Literal["sqlite", "dynamodb", "memory"]
DEFAULT_SQLITE_PATH: Final = ".local/agent-tasks.sqlite3"
RUNTIME_MAX_SECONDS: Final = TIMER_MAX_SECONDS
"""AgentCore's upper bound for a microVM's lifetime, the duration cap when the real one is unknown."""


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class SettingsError(ValueError):
    """The environment does not describe a valid agent configuration."""


class Settings(BaseSettings):
    """Validated agent configuration, read from the environment by :func:`load_settings`."""

    model_config = SettingsConfigDict(frozen=True, case_sensitive=True, extra="ignore")

    port: int = Field(8080, ge=1, le=65535, validation_alias=_env(EnvVar.PORT))
    host: str = Field("0.0.0.0", min_length=1, validation_alias=_env(EnvVar.HOST))
    store_backend: StoreBackend | None = Field(None, validation_alias=_env(EnvVar.STORE_BACKEND))
    table_name: str | None = Field(
        None, min_length=3, max_length=255, validation_alias=_env(EnvVar.TABLE_NAME)
    )
    bucket_name: str | None = Field(
        None, min_length=3, max_length=63, validation_alias=_env(EnvVar.BUCKET_NAME)
    )
    redis_url: str | None = Field(None, pattern=r"^rediss?://", validation_alias=_env(EnvVar.REDIS_URL))
    redis_iam_user: str | None = Field(
        None, pattern=r"^[a-z][a-z0-9-]{0,39}$", validation_alias=_env(EnvVar.REDIS_IAM_USER)
    )
    """ElastiCache user that authenticates with IAM tokens (with the cache name; no password anywhere)."""
    redis_cache_name: str | None = Field(
        None, pattern=r"^[a-z][a-z0-9-]{0,39}$", validation_alias=_env(EnvVar.REDIS_CACHE_NAME)
    )
    sqlite_path: Path = Field(Path(DEFAULT_SQLITE_PATH), validation_alias=_env(EnvVar.SQLITE_PATH))
    allow_memory_store: bool = Field(False, validation_alias=_env(EnvVar.ALLOW_MEMORY_STORE))
    model_id: str = Field(DEFAULT_MODEL_ID, min_length=1, validation_alias=_env(EnvVar.MODEL_ID))
    model_factory: str | None = Field(
        None, pattern=r"^[\w.]+:\w+$", validation_alias=_env(EnvVar.MODEL_FACTORY)
    )
    max_lifetime_seconds: float | None = Field(
        None, gt=0, le=RUNTIME_MAX_SECONDS, validation_alias=_env(EnvVar.MAX_LIFETIME_SECONDS)
    )
    """The runtime's maxLifetime (AgentCore allows 60-28800 s; the emulator's fast timers go lower)."""
    idle_timeout_seconds: float = Field(
        900, gt=0, le=RUNTIME_MAX_SECONDS, validation_alias=_env(EnvVar.IDLE_TIMEOUT_SECONDS)
    )
    heartbeat_seconds: float = Field(10.0, gt=0, le=3600, validation_alias=_env(EnvVar.HEARTBEAT_SECONDS))
    lease_seconds: float = Field(60.0, gt=0, le=86400, validation_alias=_env(EnvVar.LEASE_SECONDS))
    result_ttl_seconds: int = Field(
        7 * 86400, ge=1, le=400 * 86400, validation_alias=_env(EnvVar.RESULT_TTL_SECONDS)
    )
    """How long a finished (or suspended) durable record is kept; as short as the ephemeral TTL allows."""
    s3_threshold_bytes: int = Field(
        256 * 1024, ge=1, le=350 * 1024, validation_alias=_env(EnvVar.S3_THRESHOLD_BYTES)
    )
    presign_threshold_bytes: int = Field(
        1024 * 1024, ge=1, validation_alias=_env(EnvVar.PRESIGN_THRESHOLD_BYTES)
    )
    presign_expiry_seconds: int = Field(
        3600, ge=60, le=7 * 86400, validation_alias=_env(EnvVar.PRESIGN_EXPIRY_SECONDS)
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", validation_alias=_env(EnvVar.LOG_LEVEL)
    )
    runtime_name: str = Field(
        "local", pattern=r"^[A-Za-z0-9_.-]{1,64}$", validation_alias=_env(EnvVar.RUNTIME_NAME)
    )
    """The ``Runtime`` dimension of the agent's metrics (the stacks set the runtime's name)."""
    max_payload_bytes: int = Field(
        64 * 1024, ge=256, le=100 * 1024 * 1024, validation_alias=_env(EnvVar.MAX_PAYLOAD_BYTES)
    )
    max_result_bytes: int = Field(
        16 * 1024 * 1024, ge=1, le=256 * 1024 * 1024, validation_alias=_env(EnvVar.MAX_RESULT_BYTES)
    )
    cache_ttl_seconds: int = Field(300, ge=1, le=86400, validation_alias=_env(EnvVar.CACHE_TTL_SECONDS))
    ephemeral_ttl_seconds: int = Field(
        3600, ge=1, le=7 * 86400, validation_alias=_env(EnvVar.EPHEMERAL_TTL_SECONDS)
    )
    write_attempts: int = Field(4, ge=1, le=20, validation_alias=_env(EnvVar.WRITE_ATTEMPTS))
    retry_base_seconds: float = Field(0.1, gt=0, le=10, validation_alias=_env(EnvVar.RETRY_BASE_SECONDS))
    io_threads: int = Field(64, ge=1, le=512, validation_alias=_env(EnvVar.IO_THREADS))
    """How many storage calls may run at once (the thread pool and the drivers' connection pools)."""
    cpu_workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1, ge=1, le=256, validation_alias=_env(EnvVar.CPU_WORKERS)
    )
    """How many CPU-bound tasks may compute at once, each in its own worker process."""
    max_attempts: int = Field(10, ge=1, le=1000, validation_alias=_env(EnvVar.MAX_ATTEMPTS))
    """How many microVMs may run a resumable task (the first run and its resumes)."""
    extra_kinds_text: str = Field(
        "", pattern=r"^([\w.]+(,[\w.]+)*)?$", validation_alias=_env(EnvVar.EXTRA_KINDS)
    )
    """Comma-separated modules with more task kinds (each exposes ``KIND``)."""
    auth: AuthMode = Field("iam", validation_alias=_env(EnvVar.AUTH))
    """``jwt``: every call carries the caller's verified bearer token, and tasks belong to its subject."""
    stop_grace_seconds: float = Field(
        10.0, gt=0, lt=AGENTCORE_STOP_GRACE_SECONDS, validation_alias=_env(EnvVar.STOP_GRACE_SECONDS)
    )
    """After SIGTERM the process exits within this, whatever the store does (what it could not
    record is settled after the lease, as after a kill)."""
    event_bus_name: str | None = Field(
        None, pattern=r"^[/.\-_A-Za-z0-9]{1,256}$", validation_alias=_env(EnvVar.EVENT_BUS_NAME)
    )
    """The EventBridge bus that hears of every final (and suspended) task; unset: no events."""
    metrics: MetricsMode = Field("emf", validation_alias=_env(EnvVar.METRICS))
    """``put_metric_data``: metrics go to CloudWatch with PutMetricData instead of EMF lines."""

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.lease_seconds <= self.heartbeat_seconds:
            raise ValueError(f"{EnvVar.LEASE_SECONDS} must be greater than {EnvVar.HEARTBEAT_SECONDS}")
        if self.presign_threshold_bytes < self.s3_threshold_bytes:
            raise ValueError(f"{EnvVar.PRESIGN_THRESHOLD_BYTES} must be at least {EnvVar.S3_THRESHOLD_BYTES}")
        if (self.redis_iam_user is None) != (self.redis_cache_name is None) or (
            self.redis_iam_user and not self.redis_url
        ):
            raise ValueError(
                f"IAM auth to the cache needs {EnvVar.REDIS_URL}, {EnvVar.REDIS_IAM_USER}"
                f" and {EnvVar.REDIS_CACHE_NAME}"
            )
        backend = self.backend
        if backend == "dynamodb" and not self.table_name:
            raise ValueError(f"the dynamodb store needs {EnvVar.TABLE_NAME}")
        if backend == "memory" and not self.allow_memory_store:
            raise ValueError(
                f"the memory store loses every result on restart; set {EnvVar.ALLOW_MEMORY_STORE}=true "
                "to use it (tests only)"
            )
        return self

    @property
    def backend(self) -> StoreBackend:
        """The task store in use: explicit choice, else dynamodb when a table is named, else sqlite."""
        if self.store_backend is not None:
            return self.store_backend
        return "dynamodb" if self.table_name else "sqlite"

    @property
    def uses_aws(self) -> bool:
        """True when a store calls AWS (DynamoDB, S3, the cache's IAM tokens) and so needs a region."""
        return (
            self.backend == "dynamodb"
            or self.bucket_name is not None
            or self.redis_iam_user is not None
            or self.event_bus_name is not None
            or self.metrics == "put_metric_data"
        )

    @property
    def max_duration_seconds(self) -> float:
        """The microVM's lifetime, or AgentCore's upper bound when it is unknown."""
        return self.max_lifetime_seconds or RUNTIME_MAX_SECONDS

    @property
    def extra_kinds(self) -> tuple[str, ...]:
        """The module paths of ``AGENT_EXTRA_KINDS``."""
        return tuple(name for name in self.extra_kinds_text.split(",") if name)

    @property
    def resumable_seconds(self) -> float:
        """The longest a resumable task can run: every allowed attempt a whole microVM lifetime."""
        return self.max_attempts * self.max_duration_seconds


def aws_region(environ: Mapping[str, str]) -> str | None:
    """The region the AWS clients will use: ``AWS_REGION``, else botocore's own lookup.

    botocore reads ``AWS_DEFAULT_REGION`` and the profile's config file, but not ``AWS_REGION``.
    """
    region = environ.get(EnvVar.AWS_REGION) or environ.get(EnvVar.AWS_DEFAULT_REGION)
    if region:
        return region
    import botocore.session  # noqa: PLC0415 - only the process entry point resolves the region

    configured = botocore.session.Session().get_config_variable("region")
    return str(configured) if configured else None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings from ``environ`` (default: the process environment)."""
    try:
        if environ is None:
            return Settings()
        allowed = {name for name in vars(EnvVar).values() if isinstance(name, str)}
        values = {key: value for key, value in environ.items() if key in allowed}
        return Settings.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(f"invalid agent settings: {problems}") from None
