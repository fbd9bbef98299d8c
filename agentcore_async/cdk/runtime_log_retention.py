"""Retention for the log group AgentCore writes a runtime's output to, without owning that group.

AgentCore creates ``/aws/bedrock-agentcore/runtimes/<runtime id>-DEFAULT`` itself (the CDK
``Runtime`` L2 only imports it by name: "The log group itself is created by the AgentCore
service ..., not by CDK"), so an ``AWS::Logs::LogGroup`` of that name fails with "already exists".
Instead two SDK calls run on deploy: ``CreateLogGroup``, where an existing group is fine, then
``PutRetentionPolicy``. The group is deleted with the stack only where the stage destroys its data.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from agentcore_async.cdk.nag import acknowledge, arn_prefix, region_and_account

SERVICE = "CloudWatchLogs"
ALREADY_EXISTS = "ResourceAlreadyExistsException"
NOT_FOUND = "ResourceNotFoundException"
PROVIDER_ID = cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace("-", "")
"""Construct id (after ``AWS``) of the one handler function every AwsCustomResource of a stack shares."""


def retention_days(retention: logs.RetentionDays) -> int:
    """The number of days ``retention`` stands for, as CDK renders it into ``RetentionInDays``."""
    probe = logs.LogGroup(Stack(), "Probe", retention=retention).node.default_child
    if not isinstance(probe, logs.CfnLogGroup) or not isinstance(probe.retention_in_days, int):
        raise TypeError(f"{retention} renders no number of days")
    return probe.retention_in_days


class RuntimeLogRetention(Construct):
    """Keeps the events of one AgentCore-created log group for the stage's retention."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        log_group_name: str,
        nag_log_group_name: str,
        retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
        endpoint: str = "DEFAULT",
    ) -> None:
        """``nag_log_group_name`` is how cdk-nag prints ``log_group_name`` (tokens as ``<Id.Attr>``);
        ``endpoint`` names the runtime endpoint whose calls the group records."""
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        # CloudWatch Logs authorizes these actions on the group's ARN with the trailing ":*"
        # (Overview of managing access permissions to your CloudWatch Logs resources).
        group_arn = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"{log_group_name}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        handler_logs = logs.LogGroup(self, "HandlerLogs", retention=retention, removal_policy=removal_policy)
        self.handler_logs = handler_logs
        """Where the stack's one AwsCustomResource handler logs (each custom resource sets it)."""
        physical_id = cr.PhysicalResourceId.of(log_group_name)
        create = cr.AwsSdkCall(
            service=SERVICE,
            action="CreateLogGroup",
            parameters={"logGroupName": log_group_name},
            physical_resource_id=physical_id,
            ignore_error_codes_matching=ALREADY_EXISTS,
        )
        delete = None
        actions = ["logs:CreateLogGroup"]
        if removal_policy == RemovalPolicy.DESTROY:
            delete = cr.AwsSdkCall(
                service=SERVICE,
                action="DeleteLogGroup",
                parameters={"logGroupName": log_group_name},
                ignore_error_codes_matching=NOT_FOUND,
            )
            actions.append("logs:DeleteLogGroup")
        self.group = cr.AwsCustomResource(
            self,
            "Group",
            resource_type="Custom::AgentCoreLogGroup",
            on_create=create,
            on_update=create,
            on_delete=delete,
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [iam.PolicyStatement(actions=actions, resources=[group_arn])]
            ),
            install_latest_aws_sdk=False,
            log_group=handler_logs,
        )
        put_retention = cr.AwsSdkCall(
            service=SERVICE,
            action="PutRetentionPolicy",
            parameters={"logGroupName": log_group_name, "retentionInDays": retention_days(retention)},
            physical_resource_id=physical_id,
        )
        self.retention = cr.AwsCustomResource(
            self,
            "Retention",
            resource_type="Custom::AgentCoreLogRetention",
            on_create=put_retention,
            on_update=put_retention,
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [iam.PolicyStatement(actions=["logs:PutRetentionPolicy"], resources=[group_arn])]
            ),
            install_latest_aws_sdk=False,
            log_group=handler_logs,
        )
        self.retention.node.add_dependency(self.group)
        self.log_group_name = log_group_name
        nag_arn = f"{arn_prefix(stack)}:logs:{region_and_account(stack)}:log-group:{nag_log_group_name}:*"
        for resource in (self.group, self.retention):
            acknowledge(
                resource.node.find_child("CustomResourcePolicy"),
                f"AwsSolutions-IAM5[Resource::{nag_arn}]",
                "CloudWatch Logs authorizes log-group actions on the group's ARN with ':*'; "
                f"this is the one log group of this runtime's {endpoint} endpoint",
            )
        handler = stack.node.find_child(f"AWS{PROVIDER_ID}")
        acknowledge(
            handler.node.find_child("ServiceRole"),
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]",
            "CDK's AwsCustomResource handler: the managed policy only lets it write its own logs",
        )
