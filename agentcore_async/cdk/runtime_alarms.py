"""CloudWatch alarms on the runtime's server errors and throttles and on failed and lost tasks,
sent to an SNS topic.

The runtime's metrics come from the ``Runtime`` L2's ``metric_*`` methods, which carry the
namespace and dimensions AgentCore publishes, with the ``Name`` dimension set per endpoint
(``<runtime name>::<endpoint>``; the L2 alone covers only DEFAULT); the task metrics are the agent's
own (``agentcore_async/cdk/task_metrics.py``), for the whole runtime.
"""

from __future__ import annotations

from collections.abc import Sequence
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

from agentcore_async.cdk.agent_runtime import DEFAULT_ENDPOINT
from agentcore_async.cdk.task_metrics import PERIOD, runtime_metric
from agentcore_async.contract import Metric

ENDPOINT_ALARMS: Final = {
    "SystemErrors": "AgentCore returned server errors (5xx) for the runtime's endpoint {endpoint}",
    "Throttles": "AgentCore throttled invocations of the runtime's endpoint {endpoint} (429)",
}
"""Alarmed once per endpoint (descriptions name it)."""
TASK_ALARMS: Final = {
    Metric.TASKS_FAILED: "Tasks ended FAILED (their own error, an unstorable result, too many resumes)",
    Metric.TASKS_LOST: "Tasks ended LOST: their microVM ended and they cannot resume",
}
"""Alarmed once for the whole runtime."""


def endpoint_dimensions(runtime: agentcore.IBedrockAgentRuntime, endpoint: str) -> dict[str, str]:
    """The dimension that picks one endpoint's share of the runtime's metrics."""
    return {"Name": f"{runtime.agent_runtime_name}::{endpoint}"}


def alarmed_metrics(
    runtime: agentcore.IBedrockAgentRuntime, endpoint: str = DEFAULT_ENDPOINT
) -> dict[str, cloudwatch.Metric]:
    """The metrics of :data:`ENDPOINT_ALARMS` and :data:`TASK_ALARMS`, summed per :data:`PERIOD`:
    the runtime's as the L2 defines them for ``endpoint``, the tasks' as the agent emits them."""
    dimensions = endpoint_dimensions(runtime, endpoint)
    return {
        "SystemErrors": runtime.metric_system_errors(period=PERIOD, dimensions_map=dimensions),
        "Throttles": runtime.metric_throttles(period=PERIOD, dimensions_map=dimensions),
        **{name: runtime_metric(name, runtime_name=runtime.agent_runtime_name) for name in TASK_ALARMS},
    }


class RuntimeAlarms(Construct):
    """One alarm per endpoint and metric of :data:`ENDPOINT_ALARMS`, one per metric of
    :data:`TASK_ALARMS`; an e-mail subscription when an address is set."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: agentcore.IBedrockAgentRuntime,
        alarm_email: str | None,
        removal_policy: RemovalPolicy,
        endpoints: Sequence[str] = (DEFAULT_ENDPOINT,),
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
        for endpoint in endpoints:
            metrics = alarmed_metrics(runtime, endpoint)
            # DEFAULT keeps the ids it always had, so its alarms are not replaced.
            prefix = "" if endpoint == DEFAULT_ENDPOINT else endpoint
            for metric_name, description in ENDPOINT_ALARMS.items():
                self._alarm(
                    f"{prefix}{metric_name}", metrics[metric_name], description.format(endpoint=endpoint)
                )
        metrics = alarmed_metrics(runtime)
        for metric_name, description in TASK_ALARMS.items():
            self._alarm(metric_name, metrics[metric_name], description)

    def _alarm(self, construct_id: str, metric: cloudwatch.Metric, description: str) -> None:
        alarm = metric.create_alarm(
            self,
            construct_id,
            alarm_description=description,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)
