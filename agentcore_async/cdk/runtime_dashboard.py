"""A CloudWatch dashboard per stage: the runtime's own metrics beside the agent's task metrics.

The runtime's come from the ``Runtime`` L2's ``metric_*`` methods (``AWS/Bedrock-AgentCore``), one
row per endpoint;
the tasks' from the agent's EMF lines (``agentcore_async.contract.Metric``, see
``agentcore_async/cdk/task_metrics.py``): each over the whole runtime, and broken down by kind,
store or operation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_bedrockagentcore as agentcore
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from agentcore_async.cdk.agent_runtime import DEFAULT_ENDPOINT
from agentcore_async.cdk.runtime_alarms import endpoint_dimensions
from agentcore_async.cdk.task_metrics import PERIOD, broken_down, runtime_metric
from agentcore_async.contract import TASK_COUNTERS, Metric

WIDTH: Final = 24
"""The dashboard grid's width."""
HEIGHT: Final = 6


def _graph(title: str, metrics: Sequence[cloudwatch.IMetric], width: int) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=list(metrics), width=width, height=HEIGHT, period=PERIOD)


class RuntimeDashboard(Construct):
    """Invocations, sessions, errors and latency of the runtime; task outcomes, durations and
    storage trouble of the agent; and the state of the stage's alarms."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dashboard_name: str,
        runtime: agentcore.IBedrockAgentRuntime,
        alarms: Sequence[cloudwatch.IAlarm],
        endpoints: Sequence[str] = (DEFAULT_ENDPOINT,),
    ) -> None:
        super().__init__(scope, construct_id)
        name = runtime.agent_runtime_name
        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=dashboard_name, default_interval=Duration.hours(3)
        )
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=(
                    f"# Runtime {name}\n"
                    "AgentCore's metrics of the runtime (`AWS/Bedrock-AgentCore`) and the agent's "
                    f"task metrics (`{Metric.NAMESPACE}`, from the EMF lines in the runtime's log group)."
                ),
                width=WIDTH,
                height=2,
            )
        )
        for endpoint in endpoints:
            self._endpoint_row(runtime, endpoint, f" ({endpoint})" if len(endpoints) > 1 else "")
        self.dashboard.add_widgets(
            _graph(
                "Task outcomes", [runtime_metric(counter, runtime_name=name) for counter in TASK_COUNTERS], 16
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(alarms), width=8, height=HEIGHT),
        )
        by_kind = [
            _graph(f"{counter} by kind", [broken_down(counter, runtime_name=name)], 6)
            for counter in TASK_COUNTERS
        ]
        by_kind.append(
            _graph(
                "TaskDuration by kind (s)",
                [
                    broken_down(Metric.TASK_DURATION, runtime_name=name, statistic=stat)
                    for stat in ("Average", "p90")
                ],
                6,
            )
        )
        for row in range(0, len(by_kind), WIDTH // 6):
            self.dashboard.add_widgets(*by_kind[row : row + WIDTH // 6])
        self.dashboard.add_widgets(
            _graph("StoreRetries by store", [broken_down(Metric.STORE_RETRIES, runtime_name=name)], 8),
            _graph("StoreFailures by operation", [broken_down(Metric.STORE_FAILURES, runtime_name=name)], 8),
            _graph(
                "StorageUnavailable answers",
                [runtime_metric(Metric.STORAGE_UNAVAILABLE, runtime_name=name)],
                8,
            ),
        )

    def _endpoint_row(self, runtime: agentcore.IBedrockAgentRuntime, endpoint: str, suffix: str) -> None:
        """Invocations, errors and latency of one endpoint."""
        dims = endpoint_dimensions(runtime, endpoint)
        self.dashboard.add_widgets(
            _graph(
                f"Invocations and sessions{suffix}",
                [
                    runtime.metric_invocations(dimensions_map=dims),
                    runtime.metric_session_count(dimensions_map=dims),
                ],
                8,
            ),
            _graph(
                f"Errors and throttles{suffix}",
                [
                    runtime.metric_system_errors(dimensions_map=dims),
                    runtime.metric_user_errors(dimensions_map=dims),
                    runtime.metric_throttles(dimensions_map=dims),
                ],
                8,
            ),
            _graph(
                f"Latency (ms){suffix}",
                [
                    runtime.metric_latency(statistic="Average", dimensions_map=dims),
                    runtime.metric_latency(statistic="p99", dimensions_map=dims),
                ],
                8,
            ),
        )
