"""Storage stack: where results outlive the microVM (table, bucket and, per stage, a cache)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from aws_cdk import CfnOutput, Fn, Stack
from constructs import Construct

from agentcore_async.cdk.result_cache import ResultCache
from agentcore_async.cdk.results_bucket import ResultsBucket
from agentcore_async.cdk.results_table import ResultsTable
from stacks.network_stack import NetworkStack
from stacks.stages import StageConfig


@dataclass(frozen=True)
class StorageRefs:
    """What other stacks use, as imports of exports with fixed, readable names.

    Named exports keep IAM findings and snapshots readable and never change while the
    resources live, so they never block a deploy.
    """

    table_name: str
    table_arn: str
    bucket_name: str
    bucket_arn: str
    cache_endpoint: str | None
    cache_name: str | None = None
    cache_arn: str | None = None
    cache_user_id: str | None = None
    cache_user_arn: str | None = None

    @property
    def redis_url(self) -> str | None:
        """``rediss://host:port``: serverless caches only accept TLS connections."""
        return None if self.cache_endpoint is None else Fn.join("", ["rediss://", self.cache_endpoint])


class StorageStack(Stack):
    """DynamoDB task table, S3 results bucket and the optional Valkey cache."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: StageConfig,
        network: NetworkStack | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.table = ResultsTable(
            self,
            "Results",
            removal_policy=stage.removal_policy,
            deletion_protection=stage.deletion_protection,
        ).table
        self.bucket = ResultsBucket(
            self,
            "ResultBlobs",
            expiry_days=stage.result_object_days,
            versioned=stage.bucket_versioning,
            removal_policy=stage.removal_policy,
        ).bucket
        self.cache: ResultCache | None = None
        if stage.cache_enabled:
            if network is None or network.security_groups.cache is None:
                raise ValueError(
                    f"stage {stage.name}: the cache needs the network stack and its security group"
                )
            self.cache = ResultCache(
                self,
                "Cache",
                name=f"agentcore-async-{stage.name}",
                subnets=network.subnets,
                security_group=network.security_groups.cache,
                snapshot_retention_days=stage.cache_snapshot_days,
            )
        self.refs = StorageRefs(
            table_name=self._export("TableName", self.table.table_name),
            table_arn=self._export("TableArn", self.table.table_arn),
            bucket_name=self._export("BucketName", self.bucket.bucket_name),
            bucket_arn=self._export("BucketArn", self.bucket.bucket_arn),
            cache_endpoint=None if self.cache is None else self._export("CacheEndpoint", self.cache.endpoint),
        )
        if self.cache is not None:
            self.refs = dataclasses.replace(
                self.refs,
                cache_name=self._export("CacheName", self.cache.cache.ref),
                cache_arn=self._export("CacheArn", self.cache.cache.attr_arn),
                cache_user_id=self._export("CacheUserId", self.cache.agent_user.ref),
                cache_user_arn=self._export("CacheUserArn", self.cache.agent_user.attr_arn),
            )

    def export_name(self, name: str) -> str:
        """``<stack name>-<name>``."""
        return f"{self.stack_name}-{name}"

    def _export(self, name: str, value: str) -> str:
        CfnOutput(self, f"{name}Export", value=value, export_name=self.export_name(name))
        return Fn.import_value(self.export_name(name))
