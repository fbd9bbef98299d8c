"""The AgentCore runtime's execution role, scoped to exactly the resources the agent uses."""

from __future__ import annotations

from typing import Final

from aws_cdk import Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from constructs import Construct

from agentcore_async.cdk.nag import acknowledge, arn_prefix, region_and_account
from agentcore_async.contract import EVENT_DETAIL_TYPE, EVENT_SOURCE, INPUTS_PREFIX, RESULTS_PREFIX

RUNTIME_LOG_PREFIX: Final = "/aws/bedrock-agentcore/runtimes/"
# Cross-region inference profiles start with a geography; plain ids name a foundation model.
INFERENCE_PROFILE_PREFIXES: Final = frozenset({"us", "eu", "apac", "jp", "au", "ca", "us-gov", "global"})
TABLE_ACTIONS: Final = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:DescribeTable",
]
OBJECT_ACTIONS: Final = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
MODEL_ACTIONS: Final = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
TASK_RESULT_ACTIONS: Final = ["states:SendTaskSuccess", "states:SendTaskFailure"]


def is_inference_profile(model_id: str) -> bool:
    """True for ids like ``us.anthropic.claude-...`` that route across regions."""
    return model_id.split(".", 1)[0] in INFERENCE_PROFILE_PREFIXES


def image_and_log_statements(
    repository_arn: str, runtime_logs: str, log_groups: str
) -> list[iam.PolicyStatement]:
    """What AgentCore needs to pull the image and write the runtime's logs."""
    return [
        iam.PolicyStatement(
            sid="RuntimeLogGroups",
            actions=["logs:CreateLogGroup", "logs:DescribeLogStreams"],
            resources=[runtime_logs],
        ),
        iam.PolicyStatement(
            sid="RuntimeLogs",
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[f"{runtime_logs}:log-stream:*"],
        ),
        iam.PolicyStatement(
            sid="DescribeLogGroups", actions=["logs:DescribeLogGroups"], resources=[f"{log_groups}*"]
        ),
        iam.PolicyStatement(
            sid="PullImage",
            actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            resources=[repository_arn],
        ),
        iam.PolicyStatement(sid="EcrToken", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
    ]


class RuntimeRole(Construct):
    """Assumed only by AgentCore in this account; the stack adds data access with the ``grant_*`` methods."""

    def __init__(
        self, scope: Construct, construct_id: str, *, runtime_name: str, repository: ecr.IRepository
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self._stack = stack
        agentcore_arns = f"arn:{stack.partition}:bedrock-agentcore:{stack.region}:{stack.account}:*"
        log_groups = f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:"
        # The runtime id is the runtime name plus a generated suffix, so name-prefix scoping
        # covers this runtime's log groups and no one else's.
        runtime_logs = f"{log_groups}{RUNTIME_LOG_PREFIX}{runtime_name}-*"
        self.role = iam.Role(
            self,
            "Role",
            description=f"Execution role of the AgentCore runtime {runtime_name}",
            assumed_by=iam.ServicePrincipal(
                "bedrock-agentcore.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": agentcore_arns},
                },
            ),
            # CreateAgentRuntime validates the image with this role: a separately attached policy
            # may not be in effect yet ("Access denied while validating ECR URI"), inline ones are.
            inline_policies={
                "ImageAndLogs": iam.PolicyDocument(
                    statements=image_and_log_statements(repository.repository_arn, runtime_logs, log_groups)
                )
            },
        )
        self._allow(
            "Traces",
            [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
            ],
            ["*"],
        )
        self._allow(
            "Metrics",
            ["cloudwatch:PutMetricData"],
            ["*"],
            conditions={"StringEquals": {"cloudwatch:namespace": "bedrock-agentcore"}},
        )
        self._accept(
            "Resource::*",
            "the X-Ray APIs have no resource-level permissions; cloudwatch:PutMetricData is limited by "
            "condition to the bedrock-agentcore namespace (with -c metrics=put_metric_data, also to the "
            "agent's own)",
        )
        nag_logs = f"{arn_prefix(stack)}:logs:{region_and_account(stack)}:log-group:"
        for finding, reason in (
            ("*", "ecr:GetAuthorizationToken has no resource-level permissions"),
            (
                f"{nag_logs}{RUNTIME_LOG_PREFIX}{runtime_name}-*",
                "AgentCore names the runtime's log groups <runtime name>-<generated id>-<endpoint>",
            ),
            (
                f"{nag_logs}{RUNTIME_LOG_PREFIX}{runtime_name}-*:log-stream:*",
                "log streams inside this runtime's own log groups, named per microVM",
            ),
            (f"{nag_logs}*", "logs:DescribeLogGroups only works on the account's log-group list"),
        ):
            acknowledge(self.role, f"AwsSolutions-IAM5[Resource::{finding}]", reason)

    def _allow(
        self, sid: str, actions: list[str], resources: list[str], conditions: dict[str, object] | None = None
    ) -> None:
        self.role.add_to_policy(
            iam.PolicyStatement(sid=sid, actions=actions, resources=resources, conditions=conditions)
        )

    def _accept(self, finding: str, reason: str) -> None:
        policy = self.role.node.find_child("DefaultPolicy")
        acknowledge(policy, f"AwsSolutions-IAM5[{finding}]", reason)

    def grant_table(self, table_arn: str, *, nag_name: str) -> None:
        """Item reads and writes on the results table and its indexes.

        ``nag_name`` is how cdk-nag prints ``table_arn`` (an export's name for an import).
        """
        self._allow("ResultsTable", TABLE_ACTIONS, [table_arn, f"{table_arn}/index/*"])
        self._accept(f"Resource::{nag_name}/index/*", "queries on the results table's own indexes")

    def grant_results_prefix(self, bucket_arn: str, *, nag_name: str) -> None:
        """Object reads and writes under the results prefix only."""
        self._allow("ResultObjects", OBJECT_ACTIONS, [f"{bucket_arn}/{RESULTS_PREFIX}*"])
        self._allow(
            "ListResults",
            ["s3:ListBucket"],
            [bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{RESULTS_PREFIX}*"]}},
        )
        self._accept(
            f"Resource::{nag_name}/{RESULTS_PREFIX}*",
            "result objects are keyed by task under the results prefix the bucket's lifecycle rule expires",
        )

    def grant_inputs_prefix(self, bucket_arn: str, *, nag_name: str) -> None:
        """Object reads under the inputs prefix only (tasks' input objects, written by users)."""
        self._allow("InputObjects", ["s3:GetObject"], [f"{bucket_arn}/{INPUTS_PREFIX}*"])
        self._accept(
            f"Resource::{nag_name}/{INPUTS_PREFIX}*",
            "tasks read their input objects (batch items) under the inputs prefix, and nothing else",
        )

    def grant_model(self, model_id: str) -> None:
        """Invoke the one configured model (through its inference profile when it has one)."""
        stack = self._stack
        if not is_inference_profile(model_id):
            model = f"arn:{stack.partition}:bedrock:{stack.region}::foundation-model/{model_id}"
            self._allow("InvokeModel", MODEL_ACTIONS, [model])
            return
        profile = f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:inference-profile/{model_id}"
        self._allow("InvokeInferenceProfile", MODEL_ACTIONS, [profile])
        # A profile forwards to the same model in any region of its geography, only via the profile.
        base_model = model_id.split(".", 1)[1]
        self._allow(
            "InvokeModelViaProfile",
            MODEL_ACTIONS,
            [f"arn:{stack.partition}:bedrock:*::foundation-model/{base_model}"],
            conditions={"StringLike": {"bedrock:InferenceProfileArn": profile}},
        )
        self._accept(
            f"Resource::{arn_prefix(stack)}:bedrock:*::foundation-model/{base_model}",
            "a cross-region inference profile may serve the model from any region of its geography; "
            "the statement only applies through this profile (condition)",
        )

    def grant_task_events(self, bus_arn: str) -> None:
        """PutEvents on the stage's bus only, and only events of the agent's source and type
        (EventBridge User Guide, "Using IAM policy conditions in Amazon EventBridge":
        ``events:source`` and ``events:detail-type``)."""
        self._allow(
            "TaskEvents",
            ["events:PutEvents"],
            [bus_arn],
            conditions={
                "StringEquals": {"events:source": EVENT_SOURCE, "events:detail-type": EVENT_DETAIL_TYPE}
            },
        )

    def grant_task_results(self) -> None:
        """SendTaskSuccess / SendTaskFailure: complete the task token a caller handed to a start.

        The Service Authorization Reference lists no resource type for these actions, so a policy
        must name "*"; the task token itself is the capability, and only these two actions are
        granted (no heartbeat, no execution control).
        """
        self._allow("TaskResults", TASK_RESULT_ACTIONS, ["*"])

    def grant_task_metrics(self, namespace: str) -> None:
        """PutMetricData into ``namespace`` only (``-c metrics=put_metric_data``). The action has no
        resource type; the ``cloudwatch:namespace`` condition key limits it (Service Authorization
        Reference, Amazon CloudWatch)."""
        self._allow(
            "TaskMetrics",
            ["cloudwatch:PutMetricData"],
            ["*"],
            conditions={"StringEquals": {"cloudwatch:namespace": namespace}},
        )
