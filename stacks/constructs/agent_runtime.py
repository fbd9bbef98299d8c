"""The AgentCore runtime running the agent image, and its application log group."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from aws_cdk import Fn, RemovalPolicy
from aws_cdk import aws_bedrockagentcore as agentcore
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.constructs.runtime_role import RUNTIME_LOG_PREFIX
from stacks.lifecycle import Lifecycle

DEFAULT_ENDPOINT: Final = "DEFAULT"


@dataclass(frozen=True)
class RuntimeVpc:
    """Where the runtime's network interfaces go in ``VPC`` network mode."""

    subnets: list[ec2.ISubnet]
    security_group: ec2.ISecurityGroup


class AgentRuntime(Construct):
    """A container runtime with the lifecycle timers of one preset."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime_name: str,
        container_uri: str,
        role: iam.IRole,
        lifecycle: Lifecycle,
        environment: Mapping[str, str],
        vpc: RuntimeVpc | None,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        if vpc is None:
            network = agentcore.CfnRuntime.NetworkConfigurationProperty(network_mode="PUBLIC")
        else:
            network = agentcore.CfnRuntime.NetworkConfigurationProperty(
                network_mode="VPC",
                network_mode_config=agentcore.CfnRuntime.VpcConfigProperty(
                    subnets=[subnet.subnet_id for subnet in vpc.subnets],
                    security_groups=[vpc.security_group.security_group_id],
                ),
            )
        self.runtime = agentcore.CfnRuntime(
            self,
            "Runtime",
            agent_runtime_name=runtime_name,
            description=f"Asynchronous agent ({lifecycle.preset} lifecycle)",
            agent_runtime_artifact=agentcore.CfnRuntime.AgentRuntimeArtifactProperty(
                container_configuration=agentcore.CfnRuntime.ContainerConfigurationProperty(
                    container_uri=container_uri
                )
            ),
            role_arn=role.role_arn,
            network_configuration=network,
            protocol_configuration="HTTP",
            lifecycle_configuration=agentcore.CfnRuntime.LifecycleConfigurationProperty(
                idle_runtime_session_timeout=lifecycle.idle_timeout_seconds,
                max_lifetime=lifecycle.max_lifetime_seconds,
            ),
            environment_variables=dict(environment),
        )
        # The role's policy must exist before AgentCore pulls the image with it.
        self.runtime.node.add_dependency(role)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=Fn.join(
                "", [RUNTIME_LOG_PREFIX, self.runtime.attr_agent_runtime_id, f"-{DEFAULT_ENDPOINT}"]
            ),
            retention=log_retention,
            removal_policy=removal_policy,
        )

    @property
    def metric_name_dimension(self) -> str:
        """The ``Name`` dimension AgentCore publishes the default endpoint's metrics under."""
        return f"{self.runtime.agent_runtime_name}::{DEFAULT_ENDPOINT}"
