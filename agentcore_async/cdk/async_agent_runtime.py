"""``AsyncAgentRuntime``: durable asynchronous tasks on AgentCore Runtime, in one construct a team
puts into its own CDK app. It builds the image (the engine plus the team's kinds), creates or takes
the stores, and wires the runtime, its role, events and alarms; its cdk-nag checks cover only what
it creates."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from aws_cdk import CfnElement, Duration, RemovalPolicy, Stack, Stage, Token, Validations
from aws_cdk import aws_bedrockagentcore as agentcore
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from agentcore_async.cdk.agent_image import add_agent_image
from agentcore_async.cdk.agent_runtime import AgentRuntime, RuntimeVpc
from agentcore_async.cdk.nag import ScopedNagChecks, attribute_ref
from agentcore_async.cdk.results_bucket import ResultsBucket
from agentcore_async.cdk.results_table import ResultsTable
from agentcore_async.cdk.runtime_alarms import RuntimeAlarms
from agentcore_async.cdk.runtime_role import RuntimeRole
from agentcore_async.cdk.task_events_bus import TaskEventsBus
from agentcore_async.contract import (
    AUTHORIZATION_HEADER,
    DEFAULT_MODEL_ID,
    ENDPOINT_NAME,
    PRESETS,
    EnvVar,
    Lifecycle,
    PresetName,
)

KEEP_IMAGES = 10
BUILD_TIMEOUT = Duration.minutes(30)


def runtime_name_for(path: str) -> str:
    """An AgentCore runtime name (a letter, then up to 47 letters, digits or underscores) from a
    construct path."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", path).strip("_") or "agent"
    name = name if name[0].isalpha() else f"a{name}"
    return name[:48]


class AsyncAgentRuntime(Construct):
    """An AgentCore runtime serving durable asynchronous tasks of the bundled kinds and of
    ``kinds_dirs``.

    Without ``table`` or ``bucket`` it creates them; with ``vpc`` the runtime runs in its subnets
    (``vpc_subnets``, default the private ones with egress) with ``security_group`` (default: a new
    one). ``authorizer`` None keeps IAM (SigV4) auth. :meth:`add_to_role_policy` gives your kinds
    what they need.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        kinds_dirs: Sequence[str | Path] = (),
        lifecycle: PresetName | Lifecycle = "long-running",
        runtime_name: str | None = None,
        table: dynamodb.ITable | None = None,
        bucket: s3.IBucket | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_group: ec2.ISecurityGroup | None = None,
        redis_url: str | None = None,
        authorizer: agentcore.RuntimeAuthorizerConfiguration | None = None,
        endpoint: str | None = None,
        environment: Mapping[str, str] | None = None,
        model_id: str = DEFAULT_MODEL_ID,
        result_ttl_days: int = 30,
        alarm_email: str | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        nag_checks: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        timers = PRESETS[lifecycle] if isinstance(lifecycle, str) else lifecycle
        name = runtime_name or runtime_name_for(self.node.path)
        if ENDPOINT_NAME.fullmatch(name) is None:
            raise ValueError(f"runtime_name {name!r}: a letter, then up to 47 letters, digits or underscores")
        image = add_agent_image(
            self,
            kinds_dirs=[Path(d) for d in kinds_dirs],
            keep_images=KEEP_IMAGES,
            build_timeout=BUILD_TIMEOUT,
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        self.repository: ecr.IRepository = image.repository
        self.extra_kinds = image.extra_kinds
        self.table = (
            table
            or ResultsTable(self, "Tasks", removal_policy=removal_policy, deletion_protection=False).table
        )
        self.bucket = (
            bucket
            or ResultsBucket(
                self,
                "Results",
                expiry_days=result_ttl_days + 1,
                versioned=False,
                removal_policy=removal_policy,
            ).bucket
        )
        role = RuntimeRole(self, "ExecutionRole", runtime_name=name, repository=self.repository)
        self.role: iam.Role = role.role
        role.grant_table(self.table.table_arn, nag_name=_nag_arn(self.table, self.table.table_arn))
        bucket_nag = _nag_arn(self.bucket, self.bucket.bucket_arn)
        role.grant_results_prefix(self.bucket.bucket_arn, nag_name=bucket_nag)
        role.grant_inputs_prefix(self.bucket.bucket_arn, nag_name=bucket_nag)
        role.grant_model(model_id)
        task_events = TaskEventsBus(self, "TaskEvents", stage=name)
        self.event_bus: events.IEventBus = task_events.bus
        role.grant_task_events(self.event_bus.event_bus_arn)
        role.grant_task_results()
        env = {
            EnvVar.AWS_REGION: Stack.of(self).region,
            EnvVar.STORE_BACKEND: "dynamodb",
            EnvVar.TABLE_NAME: self.table.table_name,
            EnvVar.BUCKET_NAME: self.bucket.bucket_name,
            EnvVar.MODEL_ID: model_id,
            EnvVar.IDLE_TIMEOUT_SECONDS: str(timers.idle_timeout_seconds),
            EnvVar.MAX_LIFETIME_SECONDS: str(timers.max_lifetime_seconds),
            EnvVar.RESULT_TTL_SECONDS: str(result_ttl_days * 86400),
            EnvVar.EVENT_BUS_NAME: self.event_bus.event_bus_name,
            EnvVar.RUNTIME_NAME: name,
            **({EnvVar.EXTRA_KINDS: ",".join(self.extra_kinds)} if self.extra_kinds else {}),
            **({EnvVar.REDIS_URL: redis_url} if redis_url else {}),
            **({EnvVar.AUTH: "jwt"} if authorizer is not None else {}),
            **(environment or {}),
        }
        network = None
        if vpc is not None:
            group = security_group or ec2.SecurityGroup(
                self, "RuntimeSecurityGroup", vpc=vpc, description=f"AgentCore runtime {name}"
            )
            network = RuntimeVpc(vpc=vpc, subnets=_selected(vpc, vpc_subnets), security_group=group)
        agent = AgentRuntime(
            self,
            "Agent",
            runtime_name=name,
            repository=self.repository,
            image_tag=image.tag,
            role=self.role,
            lifecycle=timers,
            environment=env,
            vpc=network,
            log_retention=log_retention,
            removal_policy=removal_policy,
            authorizer=authorizer,
            request_headers=(AUTHORIZATION_HEADER,) if authorizer is not None else (),
        )
        agent.runtime.node.add_dependency(image.build)  # the image exists before AgentCore validates it
        self.runtime: agentcore.Runtime = agent.runtime
        self.endpoint = agent.add_endpoint(endpoint, version=None) if endpoint else None
        self.alarms = RuntimeAlarms(
            self, "Alarms", runtime=agent.runtime, alarm_email=alarm_email, removal_policy=removal_policy
        )
        if nag_checks:
            # Registered with the app (plugins live there) but scoped to this construct: the rest of
            # the user's app is not checked.
            Validations.of(Stage.of(self) or self).add_plugins(ScopedNagChecks(self))

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` start and poll tasks (InvokeAgentRuntime, StopRuntimeSession)."""
        return self.runtime.grant_invoke(grantee)

    def add_to_role_policy(self, statement: iam.PolicyStatement) -> None:
        """Give the runtime (so your kinds) what ``statement`` allows."""
        self.role.add_to_policy(statement)


def _nag_arn(resource: IConstruct, arn: str) -> str:
    """How cdk-nag prints ``arn`` in a finding: a literal as is, else the resource's ``Arn``
    attribute (a table or bucket of the same stack)."""
    if not Token.is_unresolved(arn):
        return arn
    if isinstance(resource.node.default_child, CfnElement):
        return attribute_ref(resource, "Arn")
    return arn


def _selected(vpc: ec2.IVpc, selection: ec2.SubnetSelection | None) -> list[ec2.ISubnet]:
    if selection is None:
        return vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnets
    return vpc.select_subnets(
        availability_zones=selection.availability_zones,
        one_per_az=selection.one_per_az,
        subnet_filters=selection.subnet_filters,
        subnet_group_name=selection.subnet_group_name,
        subnets=selection.subnets,
        subnet_type=selection.subnet_type,
    ).subnets
