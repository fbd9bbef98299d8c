"""The AgentCore runtime running the agent image (the ``Runtime`` L2), and its logs' retention."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from aws_cdk import Annotations, Duration, RemovalPolicy
from aws_cdk import aws_bedrockagentcore as agentcore
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from agentcore_async.cdk.nag import attribute_ref
from agentcore_async.cdk.runtime_log_retention import RuntimeLogRetention
from agentcore_async.cdk.runtime_role import RUNTIME_LOG_PREFIX
from agentcore_async.cdk.trace_delivery_policy import TraceDeliveryPolicy
from agentcore_async.contract import Lifecycle

IMAGE_TAG_UNRESOLVED: Final = "aws-cdk-lib.aws-bedrockagentcore:containerUriValidationSkipped"
"""The L2's note that it cannot check a container URI made of tokens at synth time."""
RUNTIME_NAME_PREFIX: Final = "agentcore_async_"
"""Every stage's runtime is named ``<prefix><stage>``."""
DEFAULT_ENDPOINT: Final = "DEFAULT"
"""The endpoint AgentCore creates with every runtime; its output goes to ``<prefix><id>-DEFAULT``."""


@dataclass(frozen=True)
class RuntimeVpc:
    """Where the runtime's network interfaces go in ``VPC`` network mode."""

    vpc: ec2.IVpc
    subnets: list[ec2.ISubnet]
    security_group: ec2.ISecurityGroup


class AgentRuntime(Construct):
    """A container runtime with the lifecycle timers of one preset.

    The execution role is ours (``RuntimeRole``), handed to the L2 without policy updates: the
    L2 would otherwise add its defaults to it, which reach every runtime's log groups in the
    account and workload-identity tokens this agent never uses.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime_name: str,
        repository: ecr.IRepository,
        image_tag: str,
        role: iam.Role,
        lifecycle: Lifecycle,
        environment: Mapping[str, str],
        vpc: RuntimeVpc | None,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
        authorizer: agentcore.RuntimeAuthorizerConfiguration | None = None,
        request_headers: Sequence[str] = (),
    ) -> None:
        """``authorizer`` None keeps IAM (SigV4) auth; ``request_headers`` are handed to the agent."""
        super().__init__(scope, construct_id)
        self._log_retention = log_retention
        self._removal_policy = removal_policy
        if vpc is None:
            network = agentcore.RuntimeNetworkConfiguration.using_public_network()
        else:
            network = agentcore.RuntimeNetworkConfiguration.using_vpc(
                self,
                vpc=vpc.vpc,
                vpc_subnets=ec2.SubnetSelection(subnets=vpc.subnets),
                security_groups=[vpc.security_group],
            )
        self.runtime = agentcore.Runtime(
            self,
            "Runtime",
            runtime_name=runtime_name,
            description=f"Asynchronous agent ({lifecycle.preset} lifecycle)",
            agent_runtime_artifact=agentcore.AgentRuntimeArtifact.from_ecr_repository(repository, image_tag),
            execution_role=role.without_policy_updates(),
            network_configuration=network,
            protocol_configuration=agentcore.ProtocolType.HTTP,
            lifecycle_configuration=agentcore.LifecycleConfiguration(
                idle_runtime_session_timeout=Duration.seconds(lifecycle.idle_timeout_seconds),
                max_lifetime=Duration.seconds(lifecycle.max_lifetime_seconds),
            ),
            environment_variables=dict(environment),
            authorizer_configuration=authorizer,
            request_header_configuration=(
                agentcore.RequestHeaderConfiguration(allowlisted_headers=list(request_headers))
                if request_headers
                else None
            ),
            # AgentCore's own spans of the runtime go to X-Ray (CloudWatch Transaction Search).
            tracing_enabled=True,
            # The L2 would add an X-Ray resource policy per stack; the account's quota is 5.
            manage_delivery_resource_policy=False,
        )

        # The URI is the repository's token plus the content-hash tag; the Image stack builds and
        # pushes exactly that tag before this stack deploys, so the note adds nothing on every synth.
        Annotations.of(self.runtime).acknowledge_info(
            IMAGE_TAG_UNRESOLVED, "the Image stack pushes this tag before the Runtime stack deploys"
        )
        # AgentCore validates and pulls the image with the role: the role and its policies come first.
        self.runtime.node.add_dependency(role)
        self.log_group = self.runtime.application_log_group
        self.logs = RuntimeLogRetention(
            self,
            "LogRetention",
            log_group_name=self.log_group.log_group_name,
            nag_log_group_name=(
                f"{RUNTIME_LOG_PREFIX}{attribute_ref(self.runtime, 'AgentRuntimeId')}-{DEFAULT_ENDPOINT}"
            ),
            retention=log_retention,
            removal_policy=removal_policy,
        )
        traces_policy = TraceDeliveryPolicy(
            self, "TracesPolicy", runtime_name_prefix=RUNTIME_NAME_PREFIX, handler_logs=self.logs.handler_logs
        )
        self.runtime.node.find_child("TracesDeliveryDest").node.add_dependency(traces_policy)

    def add_endpoint(self, name: str, *, version: str | None) -> agentcore.RuntimeEndpoint:
        """A named endpoint pinned to ``version`` (None: the version this deploy creates), and the
        retention of the log group AgentCore writes its calls' output to (``<runtime id>-<name>``)."""
        endpoint = self.runtime.add_endpoint(
            name,
            version=version or self.runtime.agent_runtime_version,
            description=f"Callers' endpoint {name}: moved between versions on purpose",
        )
        RuntimeLogRetention(
            self,
            f"{name}LogRetention",
            log_group_name=f"{RUNTIME_LOG_PREFIX}{self.runtime.agent_runtime_id}-{name}",
            nag_log_group_name=f"{RUNTIME_LOG_PREFIX}{attribute_ref(self.runtime, 'AgentRuntimeId')}-{name}",
            retention=self._log_retention,
            removal_policy=self._removal_policy,
            endpoint=name,
        )
        return endpoint
