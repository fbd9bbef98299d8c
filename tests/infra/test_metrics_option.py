"""``-c metrics=put_metric_data``: the agent is told, may put into our namespace only, and a VPC
stage reaches CloudWatch's monitoring API through an endpoint. The default stays EMF lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentcore_async.contract import EnvVar, Metric
from stacks.context import ConfigError, load_config
from tests.infra.synth import AllSynths, Synthesized, as_list, only, resources, statements, synthesize


def put_metric_data_gaps(templates: dict[str, dict[str, Any]]) -> list[str]:
    """What a stage lacks to send its metrics with PutMetricData, one line each."""
    gaps = []
    runtime = only(templates["Runtime"], "AWS::BedrockAgentCore::Runtime")["Properties"]
    if runtime["EnvironmentVariables"].get(EnvVar.METRICS) != "put_metric_data":
        gaps.append(f"no {EnvVar.METRICS}=put_metric_data")
    puts = [
        statement
        for _, statement in statements(templates["Runtime"])
        if "cloudwatch:PutMetricData" in as_list(statement["Action"])
        and statement.get("Condition") == {"StringEquals": {"cloudwatch:namespace": Metric.NAMESPACE}}
    ]
    if not puts:
        gaps.append(f"no PutMetricData limited to the {Metric.NAMESPACE} namespace")
    if "Network" in templates:
        services = [
            json.dumps(endpoint["Properties"]["ServiceName"])
            for endpoint in resources(templates["Network"], "AWS::EC2::VPCEndpoint").values()
        ]
        if not any('.monitoring"' in service for service in services):
            gaps.append("no monitoring endpoint in the VPC")
    return gaps


@pytest.fixture(scope="module")
def staging_with_put(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("metrics")
    return synthesize("staging", "development", Path(outdir), {"metrics": "put_metric_data"})


def test_put_metric_data_is_wired_on_a_vpc_stage(staging_with_put: Synthesized) -> None:
    assert put_metric_data_gaps(staging_with_put.templates) == []
    assert staging_with_put.nag_findings == []


def test_control_the_default_keeps_emf_lines_and_lacks_all_of_it(synthesized: AllSynths) -> None:
    assert put_metric_data_gaps(synthesized["staging", "development"].templates) == [
        f"no {EnvVar.METRICS}=put_metric_data",
        f"no PutMetricData limited to the {Metric.NAMESPACE} namespace",
        "no monitoring endpoint in the VPC",
    ]


def test_only_known_modes_are_accepted() -> None:
    assert load_config({"stage": "dev"}.get).metrics == "emf"
    with pytest.raises(ConfigError, match="allowed values are emf, put_metric_data"):
        load_config({"stage": "dev", "metrics": "statsd"}.get)
