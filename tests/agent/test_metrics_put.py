"""``AGENT_METRICS=put_metric_data``: the agent's metrics reach CloudWatch (moto in server mode)
through PutMetricData, and a CloudWatch that cannot be reached delays no task."""

from __future__ import annotations

import uuid
from typing import Any

import boto3

from agentcore_async.contract import EnvVar, Metric
from tests.agent.helpers import eventually, get_task, start_task
from tests.support.agent_process import running_agent
from tests.support.servers import MotoServer, free_port


def runtime_metrics(cloudwatch: Any, runtime: str) -> dict[str, set[tuple[str, ...]]]:
    """Metric name -> the dimension-name sets it was put under, for one runtime."""
    found: dict[str, set[tuple[str, ...]]] = {}
    for metric in cloudwatch.list_metrics(Namespace=Metric.NAMESPACE)["Metrics"]:
        dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
        if dimensions.get(Metric.RUNTIME) == runtime:
            found.setdefault(metric["MetricName"], set()).add(tuple(sorted(dimensions)))
    return found


def run_one_task(env: dict[str, str]) -> Any:
    """Start a half-second task on an agent with ``env``, wait until it completed; the agent."""
    with running_agent(env) as agent:
        task_id = start_task(agent)
        assert get_task(agent, task_id, wait=10)["status"] == "COMPLETED"
        return agent.logs()


def test_the_metrics_arrive_in_cloudwatch(moto_server: MotoServer) -> None:
    runtime = f"rt_{uuid.uuid4().hex[:8]}"
    cloudwatch = boto3.client("cloudwatch", endpoint_url=moto_server.url)
    env = {
        EnvVar.METRICS: "put_metric_data",
        EnvVar.RUNTIME_NAME: runtime,
        "AWS_ENDPOINT_URL": moto_server.url,
    }
    with running_agent(env) as agent:
        task_id = start_task(agent)
        assert get_task(agent, task_id, wait=10)["status"] == "COMPLETED"
        metrics = eventually(
            lambda: (found := runtime_metrics(cloudwatch, runtime)).get(Metric.TASKS_COMPLETED) and found,
            timeout=10,
            what="the task's metrics in CloudWatch",
        )
        logs = agent.logs()
    pair = tuple(sorted((Metric.RUNTIME, Metric.KIND)))
    for name in (Metric.TASKS_STARTED, Metric.TASKS_COMPLETED, Metric.TASK_DURATION):
        assert metrics[name] == {pair, (Metric.RUNTIME,)}, name  # the same dimension sets as EMF
    assert '"_aws"' not in logs  # no EMF line as well: CloudWatch would count everything twice


def test_control_without_the_setting_nothing_is_put(moto_server: MotoServer) -> None:
    runtime = f"rt_{uuid.uuid4().hex[:8]}"
    cloudwatch = boto3.client("cloudwatch", endpoint_url=moto_server.url)
    logs = run_one_task({EnvVar.RUNTIME_NAME: runtime, "AWS_ENDPOINT_URL": moto_server.url})
    assert f'"{Metric.TASKS_COMPLETED}"' in logs  # the default: EMF lines
    assert runtime_metrics(cloudwatch, runtime) == {}


def test_an_unreachable_cloudwatch_delays_no_task() -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    env = {EnvVar.METRICS: "put_metric_data", EnvVar.RUNTIME_NAME: "rt_offline", "AWS_ENDPOINT_URL": closed}
    with running_agent(env) as agent:
        task_id = start_task(agent)
        assert get_task(agent, task_id, wait=10)["status"] == "COMPLETED"
        eventually(
            lambda: "PutMetricData failed" in agent.logs(), timeout=20, what="the lost batch's warning"
        )
