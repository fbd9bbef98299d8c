"""What every part of agentcore-async must agree on, in one place.

The stacks, the agent, the emulator and the client all import these names; this package uses the
standard library only, so the client can ship it without any server dependency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal, get_args


class EnvVar:
    """Names of the environment variables the agent reads (the stacks set them on the runtime)."""

    PORT: Final = "PORT"
    STORE_BACKEND: Final = "AGENT_STORE_BACKEND"
    TABLE_NAME: Final = "AGENT_TABLE_NAME"
    BUCKET_NAME: Final = "AGENT_BUCKET_NAME"
    REDIS_URL: Final = "AGENT_REDIS_URL"
    REDIS_IAM_USER: Final = "AGENT_REDIS_IAM_USER"
    REDIS_CACHE_NAME: Final = "AGENT_REDIS_CACHE_NAME"
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
    RUNTIME_NAME: Final = "AGENT_RUNTIME_NAME"
    """The runtime's name: the ``Runtime`` dimension of the agent's metrics (see :class:`Metric`)."""
    HOST: Final = "AGENT_HOST"
    MODEL_FACTORY: Final = "AGENT_MODEL_FACTORY"
    MAX_PAYLOAD_BYTES: Final = "AGENT_MAX_PAYLOAD_BYTES"
    MAX_RESULT_BYTES: Final = "AGENT_MAX_RESULT_BYTES"
    CACHE_TTL_SECONDS: Final = "AGENT_CACHE_TTL_SECONDS"
    EPHEMERAL_TTL_SECONDS: Final = "AGENT_EPHEMERAL_TTL_SECONDS"
    PRESIGN_EXPIRY_SECONDS: Final = "AGENT_PRESIGN_EXPIRY_SECONDS"
    WRITE_ATTEMPTS: Final = "AGENT_WRITE_ATTEMPTS"
    RETRY_BASE_SECONDS: Final = "AGENT_RETRY_BASE_SECONDS"
    IO_THREADS: Final = "AGENT_IO_THREADS"
    CPU_WORKERS: Final = "AGENT_CPU_WORKERS"
    MAX_ATTEMPTS: Final = "AGENT_MAX_ATTEMPTS"
    EXTRA_KINDS: Final = "AGENT_EXTRA_KINDS"
    AUTH: Final = "AGENT_AUTH"
    """``jwt`` when the runtime authenticates callers with a JWT authorizer (see :data:`AUTH_MODES`)."""
    STOP_GRACE_SECONDS: Final = "AGENT_STOP_GRACE_SECONDS"
    """How long the agent takes at most to exit after SIGTERM (below :data:`AGENTCORE_STOP_GRACE_SECONDS`)."""
    EVENT_BUS_NAME: Final = "AGENT_EVENT_BUS_NAME"
    """The EventBridge bus the agent announces task state changes on (unset: no events)."""
    AWS_REGION: Final = "AWS_REGION"
    """The region of the AWS stores (every AWS SDK's variable; botocore itself reads only the next)."""
    AWS_DEFAULT_REGION: Final = "AWS_DEFAULT_REGION"
    METRICS: Final = "AGENT_METRICS"
    """How the agent publishes its metrics (see :data:`METRICS_MODES`; unset: ``emf``)."""


class TableSchema:
    """Key and attribute names of the DynamoDB task table (the stack creates it; the agent uses it)."""

    PARTITION_KEY: Final = "session_id"
    SORT_KEY: Final = "task_id"
    CREATED_INDEX: Final = "by_created_at"
    CREATED_ATTRIBUTE: Final = "created_at"
    TTL_ATTRIBUTE: Final = "expires_at"
    OPEN_INDEX: Final = "by_open"
    """Sparse index of the records a new microVM may have to act on (keys only)."""
    OPEN_ATTRIBUTE: Final = "open_task"
    """The index's sort key (the task id), present only while a record is RUNNING or SUSPENDED or
    owes an announcement, so the index holds those records and nothing else."""


SQLITE_RECORD_QUERY: Final = "SELECT record FROM tasks WHERE session_id = ? AND task_id = ?"
"""How the embedded SQLite store reads one task's record (a JSON object), for readers beside the
agent: the demo and the tests read a shared store without an invocation (which would resume work)."""


class Metric:
    """The agent's CloudWatch metrics (embedded metric format lines in its logs) and their dimensions.

    The agent emits them; the stacks chart and alarm on them. Task counters carry the dimension
    sets ``[Runtime, Kind]`` and ``[Runtime]``; store metrics ``[Runtime, Store]`` or
    ``[Runtime, Operation]`` and ``[Runtime]``.
    """

    NAMESPACE: Final = "AgentCoreAsync"
    RUNTIME: Final = "Runtime"
    KIND: Final = "Kind"
    STORE: Final = "Store"
    OPERATION: Final = "Operation"

    TASKS_STARTED: Final = "TasksStarted"
    TASKS_RESUMED: Final = "TasksResumed"
    TASKS_COMPLETED: Final = "TasksCompleted"
    TASKS_FAILED: Final = "TasksFailed"
    TASKS_CANCELLED: Final = "TasksCancelled"
    TASKS_LOST: Final = "TasksLost"
    TASKS_SUSPENDED: Final = "TasksSuspended"
    TASK_DURATION: Final = "TaskDuration"
    """Seconds from a task's start to its final state (across microVMs), with the final count."""
    STORE_RETRIES: Final = "StoreRetries"
    """Retries the storage drivers made (botocore's standard mode, redis-py's ``Retry``)."""
    STORE_FAILURES: Final = "StoreFailures"
    """Storage calls that still failed after the drivers' retries."""
    STORAGE_UNAVAILABLE: Final = "StorageUnavailableAnswers"
    """Invocations answered ``StorageUnavailable``."""


UNREADABLE_STATUS: Final = "UNREADABLE"
"""The status a listing shows for a record this version of the agent cannot read (a status from a
newer version, a mistyped field); a poll of it answers ``RecordUnreadable``. Never stored."""

TASK_STATE_METRICS: Final[dict[str, str]] = {
    "RUNNING": Metric.TASKS_RESUMED,
    "COMPLETED": Metric.TASKS_COMPLETED,
    "FAILED": Metric.TASKS_FAILED,
    "CANCELLED": Metric.TASKS_CANCELLED,
    "LOST": Metric.TASKS_LOST,
    "SUSPENDED": Metric.TASKS_SUSPENDED,
}
"""The counter a task's record increments when it is written into a status (RUNNING again: a resume)."""
TASK_COUNTERS: Final[tuple[str, ...]] = (Metric.TASKS_STARTED, *TASK_STATE_METRICS.values())
METRIC_BREAKDOWN: Final[dict[str, str | None]] = {
    **dict.fromkeys(TASK_COUNTERS, Metric.KIND),
    Metric.TASK_DURATION: Metric.KIND,
    Metric.STORE_RETRIES: Metric.STORE,
    Metric.STORE_FAILURES: Metric.OPERATION,
    Metric.STORAGE_UNAVAILABLE: None,
}
"""Every metric the agent emits, and the dimension it is broken down by besides ``Runtime`` (each
is also emitted under ``Runtime`` alone)."""

RESULTS_PREFIX: Final = "results/"
"""S3 key prefix of large results and checkpoints (the bucket's lifecycle rule expires it)."""
INPUTS_PREFIX: Final = "inputs/"
"""S3 key prefix of objects tasks may read as input (the ``batch`` kind's ``s3_key`` items)."""

EVENT_SOURCE: Final = "agentcore-async"
"""The ``source`` of every event the agent puts on its bus."""
EVENT_DETAIL_TYPE: Final = "Task State Change"
"""The ``detail-type`` of the event a task puts when it reaches a final state or is suspended."""

DEFAULT_MODEL_ID: Final = "global.anthropic.claude-sonnet-4-6"
"""The model the agent uses unless told otherwise (strands' own default for Bedrock)."""

SESSION_HEADER: Final = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
"""The header AgentCore hands the runtime session id to the container in."""
SESSION_ID_MIN_LENGTH: Final = 33
SESSION_ID_MAX_LENGTH: Final = 256
_SESSION_ID = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_-]*")


def session_id_problem(session_id: str) -> str | None:
    """Why AgentCore would refuse ``session_id`` as a ``runtimeSessionId``, or None if it is valid."""
    if not SESSION_ID_MIN_LENGTH <= len(session_id) <= SESSION_ID_MAX_LENGTH:
        return (
            f"must be {SESSION_ID_MIN_LENGTH}-{SESSION_ID_MAX_LENGTH} characters long, got {len(session_id)}"
        )
    if _SESSION_ID.fullmatch(session_id) is None:
        return "may contain only letters, digits, '-' and '_', starting with a letter or digit"
    return None


DEFAULT_QUALIFIER: Final = "DEFAULT"
"""The endpoint every runtime has."""
ENDPOINT_NAME: Final = re.compile(r"[a-zA-Z][a-zA-Z0-9_]{0,47}")
"""A runtime endpoint's name (CloudFormation ``AWS::BedrockAgentCore::RuntimeEndpoint`` ``Name``)."""

AuthMode = Literal["iam", "jwt"]
AUTH_MODES: Final[tuple[AuthMode, ...]] = get_args(AuthMode)
MetricsMode = Literal["emf", "put_metric_data"]
"""``emf``: EMF lines on stdout, which CloudWatch Logs turns into metrics; ``put_metric_data``: the
same metrics sent with CloudWatch ``PutMetricData`` (and no EMF lines, so nothing counts twice)."""
METRICS_MODES: Final[tuple[MetricsMode, ...]] = get_args(MetricsMode)
"""How callers authenticate to a runtime: SigV4 (IAM, AgentCore's default) or an inbound JWT
authorizer, where tasks also belong to the caller's identity."""
AUTHORIZATION_HEADER: Final = "Authorization"
"""The header a JWT caller's bearer token travels in; AgentCore hands it to the container only when
the runtime allowlists it (``RequestHeaderConfiguration``), which needs a JWT authorizer."""
BEARER_PREFIX: Final = "Bearer "

AGENTCORE_STOP_GRACE_SECONDS: Final = 15
"""How long AgentCore waits after SIGTERM before it kills a microVM's process."""

TIMER_MIN_SECONDS: Final = 60
"""Lowest value AgentCore accepts for either lifecycle timer."""
TIMER_MAX_SECONDS: Final = 28800
"""Highest value AgentCore accepts for either lifecycle timer (8 hours): the longest a microVM lives."""

PresetName = Literal["interactive", "long-running", "development"]
PRESET_NAMES: Final[tuple[PresetName, ...]] = get_args(PresetName)


@dataclass(frozen=True)
class Lifecycle:
    """The two microVM timers of a runtime's ``LifecycleConfiguration``, as a named preset."""

    preset: PresetName
    idle_timeout_seconds: int
    max_lifetime_seconds: int


PRESETS: Final[dict[PresetName, Lifecycle]] = {
    "interactive": Lifecycle("interactive", idle_timeout_seconds=900, max_lifetime_seconds=14400),
    "long-running": Lifecycle("long-running", idle_timeout_seconds=1800, max_lifetime_seconds=28800),
    "development": Lifecycle("development", idle_timeout_seconds=300, max_lifetime_seconds=1800),
}

STACK_PREFIX: Final = "AgentCoreAsync"
StackPart = Literal["Network", "Storage", "Image", "Runtime"]


def stack_name(stage: str, part: StackPart) -> str:
    """The CloudFormation stack name of one part of a stage, e.g. ``AgentCoreAsync-dev-Runtime``."""
    return f"{STACK_PREFIX}-{stage}-{part}"


class ImageLayout:
    """How the agent image's build context is laid out, for the stacks that stage it and the
    emulator that runs it from ``cdk.out``."""

    USER_KINDS: Final = "user_kinds"
    """The directory of the user's kind directories; its content lands in ``/app``, beside ``agent/``."""
    KINDS_LIST: Final = "KINDS.txt"
    """In ``USER_KINDS``: the module path of each user kind, one a line (``AGENT_EXTRA_KINDS``)."""

    @staticmethod
    def import_roots(context: str) -> tuple[str, str]:
        """What ``/app`` is in the image: the build context and its ``USER_KINDS`` directory."""
        return (context, f"{context}/{ImageLayout.USER_KINDS}")
