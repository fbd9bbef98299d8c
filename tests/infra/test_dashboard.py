"""The stage's dashboard charts every metric the agent emits, and only those, beside the runtime's.

The agent's side is ``tests/unit/test_metrics.py``: every EMF line it writes names a metric of
``agentcore_async.contract.METRIC_BREAKDOWN`` under the dimension sets the contract gives. Here every stage's
dashboard charts exactly those names, for its own runtime, broken down by the same dimension.
"""

from __future__ import annotations

import json
import re
from typing import Any

from agentcore_async.contract import METRIC_BREAKDOWN, EnvVar, Metric
from tests.infra.synth import AllSynths, Synthesized, only, resources

RUNTIME_NAMESPACE = "AWS/Bedrock-AgentCore"
RUNTIME_METRICS = {"Invocations", "SessionCount", "SystemErrors", "UserErrors", "Throttles", "Latency"}
_SEARCH = re.compile(r"SEARCH\('\{(?P<schema>[^}]*)\} MetricName=\"(?P<name>\w+)\" (?P<filter>[^']*)'")


def _text(value: Any) -> str:
    """A ``Fn::Join`` of the body, references replaced by a placeholder (they sit inside strings)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_text(part) for part in parts)
    return "<reference>"


def dashboard_body(synth: Synthesized) -> dict[str, Any]:
    board = only(synth.template("Runtime"), "AWS::CloudWatch::Dashboard")
    body: dict[str, Any] = json.loads(_text(board["Properties"]["DashboardBody"]))
    return body


def charted(body: dict[str, Any]) -> list[list[Any]]:
    """Every metric line of every graph: ``[namespace, name, dim, value, ..., {options}]`` or
    ``[{"expression": ...}]``."""
    return [line for widget in body["widgets"] for line in widget.get("properties", {}).get("metrics", [])]


def runtime_name(synth: Synthesized) -> str:
    properties = only(synth.template("Runtime"), "AWS::BedrockAgentCore::Runtime")["Properties"]
    name = properties["AgentRuntimeName"]
    assert properties["EnvironmentVariables"][EnvVar.RUNTIME_NAME] == name  # the agent's Runtime dimension
    return str(name)


def test_every_metric_the_agent_emits_is_charted_for_this_runtime_and_nothing_else(
    synthesized: AllSynths,
) -> None:
    for (stage, preset), synth in synthesized.items():
        name = runtime_name(synth)
        whole: set[str] = set()
        searched: dict[str, set[str]] = {}
        for line in charted(dashboard_body(synth)):
            if isinstance(line[0], dict) and "expression" in line[0]:
                match = _SEARCH.search(line[0]["expression"])
                assert match, line
                assert match["filter"] == f'{Metric.RUNTIME}="{name}"', (stage, preset, line)
                searched.setdefault(match["name"], set()).add(match["schema"])
            elif line[0] == Metric.NAMESPACE:
                dimensions = dict(zip(line[2:-1:2], line[3:-1:2], strict=True))
                assert dimensions == {Metric.RUNTIME: name}, (stage, preset, line)
                whole.add(line[1])
        assert set(searched) | whole == set(METRIC_BREAKDOWN), (stage, preset)
        for metric, breakdown in METRIC_BREAKDOWN.items():
            if breakdown is None:
                assert metric in whole
            else:
                expected = ",".join([Metric.NAMESPACE, *sorted((breakdown, Metric.RUNTIME))])
                assert searched[metric] == {expected}, (stage, preset, metric)


def test_the_runtimes_own_metrics_are_beside_them(synthesized: AllSynths) -> None:
    for (stage, preset), synth in synthesized.items():
        own = [line for line in charted(dashboard_body(synth)) if line[0] == RUNTIME_NAMESPACE]
        assert {line[1] for line in own} == RUNTIME_METRICS, (stage, preset)
        for line in own:
            dimensions = dict(zip(line[2:-1:2], line[3:-1:2], strict=True))
            assert dimensions["Name"] == f"{runtime_name(synth)}::DEFAULT"
            assert dimensions["Operation"] == "InvokeAgentRuntime"


def test_one_dashboard_per_stage_named_for_its_stage_and_region(synthesized: AllSynths) -> None:
    for (stage, _), synth in synthesized.items():
        [board] = resources(synth.template("Runtime"), "AWS::CloudWatch::Dashboard").values()
        assert _text(board["Properties"]["DashboardName"]) == f"AgentCoreAsync-{stage}-<reference>"
        alarms = [w for w in dashboard_body(synth)["widgets"] if w["type"] == "alarm"]
        assert len(alarms) == 1 and len(alarms[0]["properties"]["alarms"]) == 4
