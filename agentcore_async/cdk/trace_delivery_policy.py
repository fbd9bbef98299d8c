"""The X-Ray resource policy that lets CloudWatch Logs deliver AgentCore's spans of our runtimes.

X-Ray allows at most 5 resource policies per account (API Reference, PutResourcePolicy), so every
stage in an account and region writes the same one: a fixed name, a document covering every
runtime of this project, put with ``PutResourcePolicy`` (which creates or updates by name).
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from agentcore_async.cdk.nag import acknowledge

POLICY_NAME: Final = "AgentCoreAsync-TraceDelivery"
"""One name per account and region, whichever stage puts it."""
DELIVERY_PRINCIPAL: Final = "delivery.logs.amazonaws.com"


def trace_delivery_document(stack: Stack, runtime_name_prefix: str) -> str:
    """PutTraceSegments for the log delivery service, only for this account's runtimes whose name
    starts with ``runtime_name_prefix`` (every stage's), only from this account's delivery sources.

    Nothing in it names a stage: every stage must put the identical document.
    """
    runtimes = f"arn:{stack.partition}:bedrock-agentcore:{stack.region}:{stack.account}:runtime/"
    sources = f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:delivery-source:*"
    statement = iam.PolicyStatement(
        principals=[iam.ServicePrincipal(DELIVERY_PRINCIPAL)],
        actions=["xray:PutTraceSegments"],
        resources=["*"],
        conditions={
            "ForAllValues:ArnLike": {"logs:LogGeneratingResourceArns": [f"{runtimes}{runtime_name_prefix}*"]},
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": sources},
        },
    )
    return stack.to_json_string(iam.PolicyDocument(statements=[statement]).to_json())


class TraceDeliveryPolicy(Construct):
    """Puts the shared policy on every deploy; deleting a stage leaves it for the other stages."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime_name_prefix: str,
        handler_logs: logs.ILogGroup,
    ) -> None:
        """``handler_logs``: the stack's AwsCustomResource handler is one function with one log group."""
        super().__init__(scope, construct_id)
        put = cr.AwsSdkCall(
            service="XRay",
            action="PutResourcePolicy",
            parameters={
                "PolicyName": POLICY_NAME,
                "PolicyDocument": trace_delivery_document(Stack.of(self), runtime_name_prefix),
            },
            physical_resource_id=cr.PhysicalResourceId.of(POLICY_NAME),
        )
        self.resource = cr.AwsCustomResource(
            self,
            "Policy",
            resource_type="Custom::XRayResourcePolicy",
            on_create=put,
            on_update=put,
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [iam.PolicyStatement(actions=["xray:PutResourcePolicy"], resources=["*"])]
            ),
            install_latest_aws_sdk=False,
            log_group=handler_logs,
        )
        acknowledge(
            self.resource.node.find_child("CustomResourcePolicy"),
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray resource policies have no resource-level permissions (Service Authorization "
            "Reference, AWS X-Ray: PutResourcePolicy lists no resource type)",
        )
