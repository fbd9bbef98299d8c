"""A custom resource that runs the image build on deploy and waits for it to finish."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aws_cdk import CustomResource, Duration, RemovalPolicy
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import Construct

from agentcore_async.cdk.nag import acknowledge, attribute_ref

HANDLER_DIR: Final = Path(__file__).resolve().parent / "image_build"
POLL_INTERVAL: Final = Duration.seconds(30)
# Time a build may wait in CodeBuild's queue on top of its own build timeout.
QUEUE_ALLOWANCE: Final = Duration.minutes(10)
FRAMEWORK_FUNCTIONS: Final = ("framework-onEvent", "framework-isComplete", "framework-onTimeout")


class ImageBuildTrigger(Construct):
    """Starts the build whenever the source hash changes; the deploy fails if the build does."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        project: codebuild.IProject,
        repository_uri: str,
        source_hash: str,
        build_timeout: Duration,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        deadline = Duration.minutes(build_timeout.to_minutes() + QUEUE_ALLOWANCE.to_minutes())
        role = iam.Role(
            self,
            "HandlerRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Starts, polls and stops the agent image build",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["codebuild:StartBuild", "codebuild:BatchGetBuilds", "codebuild:StopBuild"],
                resources=[project.project_arn],
            )
        )
        code = lambda_.Code.from_asset(str(HANDLER_DIR), exclude=["__pycache__", "*.pyc"])
        handlers: dict[str, lambda_.Function] = {}
        for name, entry in (("OnEvent", "handler.on_event"), ("IsComplete", "handler.is_complete")):
            log_group = logs.LogGroup(
                self, f"{name}Logs", retention=log_retention, removal_policy=removal_policy
            )
            log_group.grant_write(role)
            handlers[name] = lambda_.Function(
                self,
                name,
                runtime=lambda_.Runtime.PYTHON_3_14,
                architecture=lambda_.Architecture.ARM_64,
                code=code,
                handler=entry,
                role=role,
                log_group=log_group,
                timeout=Duration.seconds(30),
                description=f"Image build custom resource: {entry}",
            )
        provider_logs = logs.LogGroup(
            self, "ProviderLogs", retention=log_retention, removal_policy=removal_policy
        )
        self.provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=handlers["OnEvent"],
            is_complete_handler=handlers["IsComplete"],
            query_interval=POLL_INTERVAL,
            total_timeout=Duration.minutes(deadline.to_minutes() + 5),
            log_group=provider_logs,
            disable_waiter_state_machine_logging=False,
            waiter_state_machine_log_options=cr.LogOptions(
                destination=logs.LogGroup(
                    self, "WaiterLogs", retention=log_retention, removal_policy=removal_policy
                ),
                level=sfn.LogLevel.ALL,
                include_execution_data=True,
            ),
        )
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.provider.service_token,
            resource_type="Custom::AgentImageBuild",
            properties={
                "ProjectName": project.project_name,
                "RepositoryUri": repository_uri,
                "SourceHash": source_hash,
                "TimeoutSeconds": str(int(deadline.to_seconds())),
            },
        )
        # The build runs with the project's role: its policy (ECR push, source download, logs)
        # must exist before the build starts. The properties only reference the project, and
        # CloudFormation creates resources that do not reference each other in parallel.
        if project.role is None:
            raise ValueError("the build project has no role")
        self.resource.node.add_dependency(project, project.role)
        self._accept_provider_findings(handlers)

    def _accept_provider_findings(self, handlers: dict[str, lambda_.Function]) -> None:
        """The provider framework's own functions and waiter are CDK's code, configured by CDK."""
        basic_role = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
        frameworks = [self.provider.node.find_child(name) for name in FRAMEWORK_FUNCTIONS]
        for framework in frameworks:
            role = framework.node.find_child("ServiceRole")
            acknowledge(
                role.node.default_child or role,
                f"AwsSolutions-IAM4[{basic_role}]",
                "provider framework function created by CDK: managed policy only grants writing its own logs",
            )
            policy = role.node.find_child("DefaultPolicy")
            for handler in handlers.values():
                acknowledge(
                    policy,
                    f"AwsSolutions-IAM5[Resource::{attribute_ref(handler, 'Arn')}:*]",
                    f"invoke any version of this construct's {handler.node.id} handler only",
                )
        waiter = self.provider.node.find_child("waiter-state-machine")
        waiter_policy = waiter.node.find_child("Role").node.find_child("DefaultPolicy")
        for framework in frameworks[1:]:
            acknowledge(
                waiter_policy,
                f"AwsSolutions-IAM5[Resource::{attribute_ref(framework, 'Arn')}:*]",
                f"invoke any version of the provider's {framework.node.id} function only",
            )
        acknowledge(
            waiter_policy,
            "AwsSolutions-IAM5[Resource::*]",
            "CloudWatch Logs delivery APIs for state machine logging have no resource-level permissions",
        )
        acknowledge(
            waiter.node.default_child or waiter,
            "AwsSolutions-SF2",
            "CDK's provider waiter only polls the isComplete handler; its executions are logged in full",
        )
