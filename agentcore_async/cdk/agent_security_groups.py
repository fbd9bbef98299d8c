"""Security groups for the runtime and the cache, opened only on the ports in use."""

from __future__ import annotations

from typing import Final

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

HTTPS: Final = ec2.Port.tcp(443)
# ElastiCache Serverless serves writes on 6379 and replica reads on 6380.
VALKEY: Final = ec2.Port.tcp_range(6379, 6380)


class AgentSecurityGroups(Construct):
    """The runtime's group and, when there is a cache, the cache's group that admits only it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        endpoint_security_group: ec2.ISecurityGroup,
        with_cache: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.runtime = ec2.SecurityGroup(
            self,
            "Runtime",
            vpc=vpc,
            description="AgentCore runtime: HTTPS to AWS endpoints, Valkey to the cache",
            allow_all_outbound=False,
        )
        # S3 and DynamoDB gateway endpoints answer on public prefix-list addresses, which a
        # template cannot name without a lookup; the subnets have no route to the internet.
        self.runtime.add_egress_rule(ec2.Peer.any_ipv4(), HTTPS, "HTTPS to VPC and gateway endpoints")
        self.runtime.connections.allow_to(endpoint_security_group, HTTPS, "HTTPS to interface endpoints")

        self.cache: ec2.SecurityGroup | None = None
        if with_cache:
            self.cache = ec2.SecurityGroup(
                self,
                "Cache",
                vpc=vpc,
                description="Valkey cache: reachable from the agent runtime only",
                allow_all_outbound=False,
            )
            self.runtime.connections.allow_to(self.cache, VALKEY, "Valkey (TLS) from the agent runtime")
