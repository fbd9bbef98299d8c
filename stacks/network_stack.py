"""Network stack: the private VPC, its endpoints and the security groups."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from aws_cdk import CfnMapping, Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from agentcore_async.cdk.agent_security_groups import AgentSecurityGroups
from agentcore_async.cdk.private_network import PrivateNetwork
from stacks.availability_zones import SUBNET_ZONES
from stacks.stages import StageConfig

VPC_CIDR = "10.40.0.0/16"
ZONE_KEYS: Final = tuple(f"Zone{i + 1}" for i in range(SUBNET_ZONES))
"""Second-level keys of the region -> zone ID mapping, one per subnet."""


class NetworkStack(Stack):
    """Only synthesized for stages that run the runtime in ``VPC`` network mode."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: StageConfig,
        zone_ids: Mapping[str, tuple[str, ...]],
        put_metric_data: bool = False,
        **kwargs: Any,
    ) -> None:
        """``put_metric_data``: the agent sends its metrics with PutMetricData (an endpoint for it)."""
        super().__init__(scope, construct_id, **kwargs)
        if not zone_ids or any(len(ids) != SUBNET_ZONES for ids in zone_ids.values()):
            raise ValueError(f"stage {stage.name}: {SUBNET_ZONES} Availability Zone IDs per region needed")
        # Region -> zone IDs. Lazy: a stack pinned to one region gets the literal IDs and no
        # mapping; an environment-agnostic one gets the table, and a deploy to a region missing
        # from it fails at template validation, before anything is created.
        self._zones = CfnMapping(
            self,
            "SubnetZoneIds",
            mapping={region: dict(zip(ZONE_KEYS, ids, strict=True)) for region, ids in zone_ids.items()},
            lazy=True,
        )
        network = PrivateNetwork(
            self,
            "Network",
            cidr=VPC_CIDR,
            max_azs=SUBNET_ZONES,
            flow_log_retention=stage.log_retention,
            removal_policy=stage.removal_policy,
            put_metric_data=put_metric_data,
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
        """The subnets' zones as Availability Zone *IDs* (``PrivateNetwork`` writes them as such).

        Never looked up with credentials during synth, also for stacks pinned to an account.
        """
        return [self._zones.find_in_map(self.region, key) for key in ZONE_KEYS]
