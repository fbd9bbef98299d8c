"""Per-stage settings: what differs between dev, staging and prod."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

from agentcore_async.contract import PresetName

DAY_SECONDS: Final = 86400
RESULT_OBJECT_MARGIN_DAYS: Final = 1
"""How much longer an object under the results prefix lives than the record that names it. A
record's TTL counts from its last write, which comes after the object's upload: right after it for
a result (later when that write is held through an outage), up to a microVM's lifetime (8 h) after
it for a checkpoint named by a suspended record. S3 counts from the upload (rounded up to the next
midnight UTC), so a day covers that gap."""

StageName = Literal["dev", "staging", "prod"]
STAGE_NAMES: Final[tuple[StageName, ...]] = get_args(StageName)


@dataclass(frozen=True)
class StageConfig:
    """Everything a stage decides; stacks read only this, never raw context."""

    name: StageName
    default_lifecycle: PresetName
    removal_policy: RemovalPolicy
    """What happens to data (table, buckets, repository, logs) when the stack is deleted."""
    deletion_protection: bool
    log_retention: logs.RetentionDays
    result_ttl_days: int
    """Days a finished task stays readable: the agent's record TTL, from which the expiry of the
    task's objects under the results prefix is derived (see :attr:`result_object_days`)."""
    bucket_versioning: bool
    cache_enabled: bool
    """ElastiCache Serverless Valkey; needs the runtime in VPC mode."""
    cache_snapshot_days: int
    vpc_mode: bool
    """Run the runtime in private subnets (``VPC`` network mode) instead of ``PUBLIC``."""
    max_images: int
    """How many images the ECR lifecycle rule keeps."""
    build_timeout_minutes: int

    @property
    def result_ttl_seconds(self) -> int:
        """The agent's ``AGENT_RESULT_TTL_SECONDS``."""
        return self.result_ttl_days * DAY_SECONDS

    @property
    def result_object_days(self) -> int:
        """When the bucket expires result and checkpoint objects: after their records, never before."""
        return self.result_ttl_days + RESULT_OBJECT_MARGIN_DAYS

    def __post_init__(self) -> None:
        if self.cache_enabled and not self.vpc_mode:
            raise ValueError(f"stage {self.name}: the cache is only reachable in VPC mode")


STAGES: Final[dict[StageName, StageConfig]] = {
    "dev": StageConfig(
        name="dev",
        default_lifecycle="development",
        removal_policy=RemovalPolicy.DESTROY,
        deletion_protection=False,
        log_retention=logs.RetentionDays.ONE_WEEK,
        result_ttl_days=3,
        bucket_versioning=False,
        cache_enabled=False,
        cache_snapshot_days=0,
        vpc_mode=False,
        max_images=5,
        build_timeout_minutes=30,
    ),
    "staging": StageConfig(
        name="staging",
        default_lifecycle="interactive",
        removal_policy=RemovalPolicy.DESTROY,
        deletion_protection=False,
        log_retention=logs.RetentionDays.ONE_MONTH,
        result_ttl_days=7,
        bucket_versioning=True,
        cache_enabled=True,
        cache_snapshot_days=1,
        vpc_mode=True,
        max_images=10,
        build_timeout_minutes=30,
    ),
    "prod": StageConfig(
        name="prod",
        default_lifecycle="long-running",
        removal_policy=RemovalPolicy.RETAIN,
        deletion_protection=True,
        log_retention=logs.RetentionDays.ONE_YEAR,
        result_ttl_days=30,
        bucket_versioning=True,
        cache_enabled=True,
        cache_snapshot_days=7,
        vpc_mode=True,
        max_images=30,
        build_timeout_minutes=30,
    ),
}
