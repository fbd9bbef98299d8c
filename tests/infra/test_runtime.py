"""The AgentCore runtime: lifecycle per preset, environment, network mode, outputs, alarms."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from agent.settings import EnvVar
from stacks.constructs.runtime_alarms import RuntimeAlarms
from stacks.lifecycle import MAX_SECONDS, MIN_SECONDS, PRESETS, PresetName
from stacks.stages import STAGES
from tests.infra.synth import AllSynths, Synthesized, only, resources

RUNTIME = "AWS::BedrockAgentCore::Runtime"


def runtime_of(synth: Synthesized) -> dict[str, Any]:
    properties: dict[str, Any] = only(synth.template("Runtime"), RUNTIME)["Properties"]
    return properties


def test_lifecycle_is_the_presets_as_plain_numbers(synthesized: AllSynths) -> None:
    for (_, preset), synth in synthesized.items():
        expected = PRESETS[preset]
        assert runtime_of(synth)["LifecycleConfiguration"] == {
            "IdleRuntimeSessionTimeout": expected.idle_timeout_seconds,
            "MaxLifetime": expected.max_lifetime_seconds,
        }


def test_idle_timeout_never_exceeds_lifetime_and_both_are_in_range(
    synthesized: AllSynths,
) -> None:
    for synth in synthesized.values():
        lifecycle = runtime_of(synth)["LifecycleConfiguration"]
        idle, lifetime = lifecycle["IdleRuntimeSessionTimeout"], lifecycle["MaxLifetime"]
        assert MIN_SECONDS <= idle <= lifetime <= MAX_SECONDS


def test_environment_points_the_agent_at_this_stages_stores(synthesized: AllSynths) -> None:
    for (stage, preset), synth in synthesized.items():
        lifecycle = PRESETS[preset]
        env = runtime_of(synth)["EnvironmentVariables"]
        assert env[EnvVar.STORE_BACKEND] == "dynamodb"
        assert env[EnvVar.TABLE_NAME] == {"Fn::ImportValue": f"AgentCoreAsync-{stage}-Storage-TableName"}
        assert env[EnvVar.BUCKET_NAME] == {"Fn::ImportValue": f"AgentCoreAsync-{stage}-Storage-BucketName"}
        assert env[EnvVar.IDLE_TIMEOUT_SECONDS] == str(lifecycle.idle_timeout_seconds)
        assert env[EnvVar.MAX_LIFETIME_SECONDS] == str(lifecycle.max_lifetime_seconds)
        assert env[EnvVar.MODEL_ID].startswith("us.anthropic.")
        if STAGES[stage].cache_enabled:
            endpoint = {"Fn::ImportValue": f"AgentCoreAsync-{stage}-Storage-CacheEndpoint"}
            assert env[EnvVar.REDIS_URL] == {"Fn::Join": ["", ["rediss://", endpoint]]}
        else:
            assert EnvVar.REDIS_URL not in env


def test_vpc_mode_exactly_when_the_stage_has_a_cache(synthesized: AllSynths) -> None:
    for (stage, _), synth in synthesized.items():
        network = runtime_of(synth)["NetworkConfiguration"]
        if not STAGES[stage].vpc_mode:
            assert network == {"NetworkMode": "PUBLIC"}
            continue
        assert network["NetworkMode"] == "VPC"
        (group,) = network["NetworkModeConfig"]["SecurityGroups"]
        assert "SecurityGroupsRuntime" in group["Fn::ImportValue"]
        assert len(network["NetworkModeConfig"]["Subnets"]) == 2


def test_runtime_waits_for_the_image_build_of_the_same_source(
    synthesized: AllSynths,
) -> None:
    for (stage, _), synth in synthesized.items():
        runtime_stack = f"AgentCoreAsync-{stage}-Runtime"
        assert f"AgentCoreAsync-{stage}-Image" in synth.dependencies[runtime_stack]
        assert f"AgentCoreAsync-{stage}-Storage" in synth.dependencies[runtime_stack]
        uri = runtime_of(synth)["AgentRuntimeArtifact"]["ContainerConfiguration"]["ContainerUri"]["Fn::Join"][
            1
        ]
        build = only(synth.template("Image"), "Custom::AgentImageBuild")["Properties"]
        assert uri[-1] == f":{build['SourceHash']}"


def test_runtime_is_created_after_its_role_policy(synthesized: AllSynths) -> None:
    synth = synthesized["prod", "long-running"]
    runtime = only(synth.template("Runtime"), RUNTIME)
    policies = resources(synth.template("Runtime"), "AWS::IAM::Policy")
    assert set(policies) <= set(runtime["DependsOn"])


def test_outputs_have_the_documented_ids(synthesized: AllSynths) -> None:
    for (stage, _), synth in synthesized.items():
        outputs = synth.template("Runtime")["Outputs"]
        expected = {"RuntimeArn", "ResultsTableName", "ResultsBucketName", "RepositoryUri", "LogsTailCommand"}
        if STAGES[stage].cache_enabled:
            expected.add("CacheEndpoint")
        assert expected <= set(outputs)
        assert "CacheEndpoint" in outputs or not STAGES[stage].cache_enabled
        tail = outputs["LogsTailCommand"]["Value"]["Fn::Join"]
        assert tail[0] == " "
        assert tail[1][0] == "aws logs tail"
        assert tail[1][-1] == "--follow"


def test_runtime_log_group_keeps_logs_for_the_stage_retention(
    synthesized: AllSynths,
) -> None:
    retention = {"dev": 7, "staging": 30, "prod": 365}
    for (stage, _), synth in synthesized.items():
        for log_group in resources(synth.template("Runtime"), "AWS::Logs::LogGroup").values():
            name = log_group["Properties"]["LogGroupName"]["Fn::Join"][1]
            assert name[0] == "/aws/bedrock-agentcore/runtimes/"
            assert name[-1] == "-DEFAULT"
            assert log_group["Properties"]["RetentionInDays"] == retention[stage]


@pytest.mark.parametrize("preset", list(PRESETS))
def test_alarms_watch_errors_and_throttles_of_this_runtime(
    synthesized: AllSynths, preset: PresetName
) -> None:
    alarms = resources(synthesized["staging", preset].template("Runtime"), "AWS::CloudWatch::Alarm")
    by_metric = {alarm["Properties"]["MetricName"]: alarm["Properties"] for alarm in alarms.values()}
    assert set(by_metric) == {"SystemErrors", "Throttles"}
    for alarm in by_metric.values():
        assert alarm["Namespace"] == "AWS/Bedrock-AgentCore"
        dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        assert dimensions["Operation"] == "InvokeAgentRuntime"
        assert dimensions["Name"] == "agentcore_async_staging::DEFAULT"
        assert len(alarm["AlarmActions"]) == 1


def alarm_template(email: str | None) -> Template:
    stack = cdk.Stack(cdk.App(), "Alarms")
    RuntimeAlarms(
        stack,
        "Alarms",
        runtime_arn="arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/agent-abc",
        endpoint_dimension="agent::DEFAULT",
        alarm_email=email,
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    return Template.from_stack(stack)


def test_alarm_email_subscribes_to_the_encrypted_topic_only_when_given() -> None:
    with_email = alarm_template("ops@example.com")
    with_email.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
    )
    with_email.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    alarm_template(None).resource_count_is("AWS::SNS::Subscription", 0)
