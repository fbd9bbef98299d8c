"""The Lambda function the example state machine starts agent tasks through."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_bedrockagentcore as agentcore
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from agentcore_async.cdk.nag import acknowledge, attribute_ref

HANDLER_SOURCE: Final = Path(__file__).resolve().parent / "task_starter" / "index.py"
RUNTIME_ARN_VARIABLE: Final = "AGENT_RUNTIME_ARN"


class TaskStarterFunction(Construct):
    """Inline code; may only invoke this one runtime and write its own log group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: agentcore.Runtime,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Starts example tasks on the stage's AgentCore runtime",
        )
        log_group = logs.LogGroup(self, "Logs", retention=log_retention, removal_policy=removal_policy)
        log_group.grant_write(role)
        runtime.grant_invoke_runtime(role)
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            code=lambda_.Code.from_inline(HANDLER_SOURCE.read_text()),
            handler="index.handler",
            role=role,
            log_group=log_group,
            timeout=Duration.seconds(30),
            environment={RUNTIME_ARN_VARIABLE: runtime.agent_runtime_arn},
            description="Example state machine: starts one agent task with the execution's task token",
        )
        policy = role.node.find_child("DefaultPolicy")
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{attribute_ref(runtime, 'AgentRuntimeArn')}/*]",
            "InvokeAgentRuntime is authorized on the runtime and its endpoints "
            "(<runtime ARN>/runtime-endpoint/DEFAULT); the wildcard stays under this one runtime",
        )
