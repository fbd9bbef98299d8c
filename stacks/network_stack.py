"""Network stack: the private VPC, its endpoints and the security groups."""

from __future__ import annotations

from typing import Any

from aws_cdk import Fn, Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from stacks.constructs.agent_security_groups import AgentSecurityGroups
from stacks.constructs.private_network import PrivateNetwork
from stacks.stages import StageConfig

VPC_CIDR = "10.40.0.0/16"
AZ_COUNT = 2


class NetworkStack(Stack):
    """Only synthesized for stages that run the runtime in ``VPC`` network mode."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: StageConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        network = PrivateNetwork(
            self,
            "Network",
            cidr=VPC_CIDR,
            max_azs=AZ_COUNT,
            flow_log_retention=stage.log_retention,
            removal_policy=stage.removal_policy,
        )
        self.vpc = network.vpc
        self.subnets: list[ec2.ISubnet] = self.vpc.select_subnets(
            subnet_type=ec2.SubnetType.PRIVATE_ISOLATED
        ).subnets
        self.security_groups = AgentSecurityGroups(
            self,
            "SecurityGroups",
            vpc=network.vpc,
            endpoint_security_group=network.endpoint_security_group,
            with_cache=stage.cache_enabled,
        )

    @property
    def availability_zones(self) -> list[str]:
        """The region's first two AZs, resolved by CloudFormation at deploy time.

        Also for stacks with an explicit account and region, where CDK would otherwise look the
        zones up with AWS credentials during synth.
        """
        return [Fn.select(index, Fn.get_azs()) for index in range(AZ_COUNT)]
