"""CloudWatch metrics of the agent's EMF lines (``agentcore_async.contract.Metric``), for alarms and
dashboards.

The agent writes them to its runtime's log group, where CloudWatch extracts them, per runtime
(the ``Runtime`` dimension is the runtime's name, which the stack hands the agent as
``AGENT_RUNTIME_NAME``) and broken down as ``agentcore_async.contract.METRIC_BREAKDOWN`` says.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch

from agentcore_async.contract import METRIC_BREAKDOWN, Metric

PERIOD: Final = Duration.minutes(5)


def runtime_metric(name: str, *, runtime_name: str, statistic: str = "Sum") -> cloudwatch.Metric:
    """``name`` summed over the whole runtime (every kind, store or operation)."""
    return cloudwatch.Metric(
        namespace=Metric.NAMESPACE,
        metric_name=name,
        dimensions_map={Metric.RUNTIME: runtime_name},
        statistic=statistic,
        period=PERIOD,
    )


def broken_down(name: str, *, runtime_name: str, statistic: str = "Sum") -> cloudwatch.MathExpression:
    """One series per value of ``name``'s breakdown dimension (per kind, store or operation), found
    by a search, so kinds added later (``AGENT_EXTRA_KINDS``) show up without a deploy."""
    dimension = METRIC_BREAKDOWN[name]
    if dimension is None:
        raise ValueError(f"{name} has no breakdown dimension")
    schema = ",".join([Metric.NAMESPACE, *sorted((dimension, Metric.RUNTIME))])
    query = f'{{{schema}}} MetricName="{name}" {Metric.RUNTIME}="{runtime_name}"'
    return cloudwatch.MathExpression(
        expression=f"SEARCH('{query}', '{statistic}', {int(PERIOD.to_seconds())})",
        label=f"${{PROP('Dim.{dimension}')}}" + ("" if statistic == "Sum" else f" {statistic}"),
        period=PERIOD,
    )
