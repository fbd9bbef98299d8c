"""ElastiCache Serverless for Valkey: fast TTL'd results, reachable only inside the VPC.

Clients authenticate as an IAM-enabled user (short-lived SigV4 tokens, no password anywhere).
The user group holds that user only: "A user group configured for the 'VALKEY' engine can only
contain users using an authentication mechanism (password or IAM)" (ElastiCache User Guide,
"Role-Based Access Control (RBAC)",
https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.RBAC.html), and unlike a Redis
OSS group it needs no user named ``default``. With no password-less user in the group, a
connection that does not authenticate has no user to act as, so the security group alone never
grants access.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Fn
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from constructs import Construct

ENGINE: Final = "valkey"
AGENT_ACCESS_STRING: Final = "on ~agent:* -@all +@read +@write +@scripting +@connection -@dangerous"
"""The agent's user reaches only its own ``agent:`` keys, with data and script commands."""


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
        self.agent_user = elasticache.CfnUser(
            self,
            "AgentUser",
            engine=ENGINE,
            user_id=f"{name}-agent",
            user_name=f"{name}-agent",  # IAM authentication requires user name == user id
            access_string=AGENT_ACCESS_STRING,
            authentication_mode={"Type": "iam"},
        )
        users = elasticache.CfnUserGroup(
            self,
            "Users",
            engine=ENGINE,
            user_group_id=f"{name}-users",
            user_ids=[self.agent_user.ref],  # Ref (the user id) orders creation
        )
        self.cache = elasticache.CfnServerlessCache(
            self,
            "Cache",
            serverless_cache_name=name,
            engine=ENGINE,
            major_engine_version="8",
            description="Task results with a TTL, read by clients polling the agent",
            subnet_ids=[subnet.subnet_id for subnet in subnets],
            security_group_ids=[security_group.security_group_id],
            snapshot_retention_limit=snapshot_retention_days,
            user_group_id=users.ref,
        )

    @property
    def endpoint(self) -> str:
        """``host:port`` of the primary endpoint."""
        return Fn.join(":", [self.cache.attr_endpoint_address, self.cache.attr_endpoint_port])
