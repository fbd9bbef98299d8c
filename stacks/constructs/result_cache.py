"""ElastiCache Serverless for Valkey: fast TTL'd results, reachable only inside the VPC."""

from __future__ import annotations

from aws_cdk import Fn
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from constructs import Construct


class ResultCache(Construct):
    """A serverless Valkey cache in the private subnets; TLS is always on for serverless caches."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        subnets: list[ec2.ISubnet],
        security_group: ec2.ISecurityGroup,
        snapshot_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.cache = elasticache.CfnServerlessCache(
            self,
            "Cache",
            serverless_cache_name=name,
            engine="valkey",
            major_engine_version="8",
            description="Task results with a TTL, read by clients polling the agent",
            subnet_ids=[subnet.subnet_id for subnet in subnets],
            security_group_ids=[security_group.security_group_id],
            snapshot_retention_limit=snapshot_retention_days,
        )

    @property
    def endpoint(self) -> str:
        """``host:port`` of the primary endpoint."""
        return Fn.join(":", [self.cache.attr_endpoint_address, self.cache.attr_endpoint_port])
