"""CloudWatch alarms on the runtime's server errors and throttles and on failed and lost tasks,
sent to an SNS topic.

The runtime's metrics come from the ``Runtime`` L2's ``metric_*`` methods, which carry the
namespace and dimensions AgentCore publishes for a runtime's DEFAULT endpoint; the task metrics
are the agent's own (``agentcore_async/cdk/task_metrics.py``), for the whole runtime.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import RemovalPolicy
from aws_cdk import aws_bedrockagentcore as agentcore
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from agentcore_async.cdk.task_metrics import PERIOD, runtime_metric
from agentcore_async.contract import Metric

ALARMED_METRICS: Final = {
    "SystemErrors": "AgentCore returned server errors (5xx) for the runtime",
    "Throttles": "AgentCore throttled invocations of the runtime (429)",
    Metric.TASKS_FAILED: "Tasks ended FAILED (their own error, an unstorable result, too many resumes)",
    Metric.TASKS_LOST: "Tasks ended LOST: their microVM ended and they cannot resume",
}


def alarmed_metrics(runtime: agentcore.IBedrockAgentRuntime) -> dict[str, cloudwatch.Metric]:
    """The metrics in :data:`ALARMED_METRICS`, summed per :data:`PERIOD`: the runtime's as the L2
    defines them, the tasks' as the agent emits them for this runtime."""
    return {
        "SystemErrors": runtime.metric_system_errors(period=PERIOD),
        "Throttles": runtime.metric_throttles(period=PERIOD),
        **{
            name: runtime_metric(name, runtime_name=runtime.agent_runtime_name)
            for name in (Metric.TASKS_FAILED, Metric.TASKS_LOST)
        },
    }


class RuntimeAlarms(Construct):
    """One alarm per metric in :data:`ALARMED_METRICS`; an e-mail subscription when an address is set."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: agentcore.IBedrockAgentRuntime,
        alarm_email: str | None,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        key = kms.Key(
            self,
            "TopicKey",
            description="Encrypts the agent runtime's alarm topic",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        # CloudWatch must be able to publish to the encrypted topic.
        key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*")
        self.topic = sns.Topic(self, "Topic", master_key=key, enforce_ssl=True)
        if alarm_email is not None:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self.alarms: list[cloudwatch.Alarm] = []
        metrics = alarmed_metrics(runtime)
        for metric_name, description in ALARMED_METRICS.items():
            alarm = metrics[metric_name].create_alarm(
                self,
                metric_name,
                alarm_description=description,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(actions.SnsAction(self.topic))
            self.alarms.append(alarm)
