"""The AgentCore runtime: lifecycle per preset, environment, network mode, outputs, alarms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_bedrockagentcore as agentcore
from aws_cdk import aws_cognito as cognito
from aws_cdk.assertions import Match, Template

from agentcore_async.cdk.runtime_alarms import RuntimeAlarms, alarmed_metrics
from agentcore_async.cdk.runtime_dashboard import RuntimeDashboard
from agentcore_async.contract import (
    DEFAULT_MODEL_ID,
    PRESETS,
    TIMER_MAX_SECONDS,
    TIMER_MIN_SECONDS,
    EnvVar,
    Metric,
    PresetName,
)
from stacks.stages import STAGES
from tests.infra.synth import (
    EXTERNAL_DISCOVERY_URL,
    AllSynths,
    Synthesized,
    VariantSynths,
    only,
    resources,
    synthesize,
)

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
        assert TIMER_MIN_SECONDS <= idle <= lifetime <= TIMER_MAX_SECONDS


def test_environment_points_the_agent_at_this_stages_stores(synthesized: AllSynths) -> None:
    for (stage, preset), synth in synthesized.items():
        lifecycle = PRESETS[preset]
        env = runtime_of(synth)["EnvironmentVariables"]
        assert env[EnvVar.AWS_REGION] == {"Ref": "AWS::Region"}
        assert env[EnvVar.STORE_BACKEND] == "dynamodb"
        assert env[EnvVar.TABLE_NAME] == {"Fn::ImportValue": f"AgentCoreAsync-{stage}-Storage-TableName"}
        assert env[EnvVar.BUCKET_NAME] == {"Fn::ImportValue": f"AgentCoreAsync-{stage}-Storage-BucketName"}
        assert env[EnvVar.IDLE_TIMEOUT_SECONDS] == str(lifecycle.idle_timeout_seconds)
        assert env[EnvVar.MAX_LIFETIME_SECONDS] == str(lifecycle.max_lifetime_seconds)
        assert env[EnvVar.RESULT_TTL_SECONDS] == str(STAGES[stage].result_ttl_seconds)
        assert env[EnvVar.MODEL_ID] == DEFAULT_MODEL_ID  # the one default, shared with the agent
        assert env[EnvVar.RUNTIME_NAME] == f"agentcore_async_{stage}"  # the agent's metrics dimension
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
    template = synth.template("Runtime")
    runtime = only(template, RUNTIME)
    role = runtime["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    role_policies = {
        logical_id
        for logical_id, policy in resources(template, "AWS::IAM::Policy").items()
        if {"Ref": role} in policy["Properties"]["Roles"]
    }
    assert role_policies
    assert role_policies | {role} <= set(runtime["DependsOn"])


def test_outputs_have_the_documented_ids(synthesized: AllSynths) -> None:
    for (stage, _), synth in synthesized.items():
        outputs = synth.template("Runtime")["Outputs"]
        expected = {
            "RuntimeArn",
            "ResultsTableName",
            "ResultsBucketName",
            "RepositoryUri",
            "LogsTailCommand",
            "DashboardUrl",
        }
        if STAGES[stage].cache_enabled:
            expected.add("CacheEndpoint")
        assert expected <= set(outputs)
        assert "CacheEndpoint" in outputs or not STAGES[stage].cache_enabled
        tail = outputs["LogsTailCommand"]["Value"]["Fn::Join"]
        assert tail[0] == " "
        assert tail[1][0] == "aws logs tail"
        assert tail[1][-1] == "--follow"


def log_group_calls(template: dict[str, Any], kind: str) -> dict[str, Any]:
    """The SDK call a log-group custom resource makes on create, with the runtime id filled in."""
    [resource] = resources(template, kind).values()
    separator, parts = resource["Properties"]["Create"]["Fn::Join"]
    text = separator.join(part if isinstance(part, str) else "<runtime-id>" for part in parts)
    call: dict[str, Any] = json.loads(text)
    return call


def test_the_runtime_log_group_is_not_owned_but_kept_for_the_stage_retention(
    synthesized: AllSynths,
) -> None:
    """AgentCore creates the group: an existing one is fine, and its retention follows the stage."""
    retention = {"dev": 7, "staging": 30, "prod": 365}
    group = "/aws/bedrock-agentcore/runtimes/<runtime-id>-DEFAULT"
    for (stage, _), synth in synthesized.items():
        template = synth.template("Runtime")
        for log_group in resources(template, "AWS::Logs::LogGroup").values():
            assert "LogGroupName" not in log_group["Properties"]
        create = log_group_calls(template, "Custom::AgentCoreLogGroup")
        assert (create["action"], create["parameters"]) == ("CreateLogGroup", {"logGroupName": group})
        assert create["ignoreErrorCodesMatching"] == "ResourceAlreadyExistsException"
        put = log_group_calls(template, "Custom::AgentCoreLogRetention")
        assert put["action"] == "PutRetentionPolicy"
        assert put["parameters"] == {"logGroupName": group, "retentionInDays": retention[stage]}
        [creator] = resources(template, "Custom::AgentCoreLogGroup")
        [setter] = resources(template, "Custom::AgentCoreLogRetention").values()
        assert creator in setter["DependsOn"]
        tail = synth.template("Runtime")["Outputs"]["LogsTailCommand"]["Value"]["Fn::Join"][1][1]
        name_parts = tail["Fn::Join"][1]
        assert (name_parts[0], name_parts[-1]) == ("/aws/bedrock-agentcore/runtimes/", "-DEFAULT")
        assert name_parts[1]["Fn::GetAtt"][1] == "AgentRuntimeId"


def test_the_log_group_is_deleted_with_the_stack_only_where_the_stage_destroys_data(
    synthesized: AllSynths,
) -> None:
    for (stage, _), synth in synthesized.items():
        [creator] = resources(synth.template("Runtime"), "Custom::AgentCoreLogGroup").values()
        destroys = STAGES[stage].removal_policy == cdk.RemovalPolicy.DESTROY
        assert ("Delete" in creator["Properties"]) is destroys
        if destroys:
            assert '"action":"DeleteLogGroup"' in json.dumps(creator["Properties"]["Delete"]).replace(
                "\\", ""
            )


@pytest.mark.parametrize("preset", list(PRESETS))
def test_alarms_watch_errors_and_throttles_and_failed_and_lost_tasks_of_this_runtime(
    synthesized: AllSynths, preset: PresetName
) -> None:
    alarms = resources(synthesized["staging", preset].template("Runtime"), "AWS::CloudWatch::Alarm")
    by_metric = {alarm["Properties"]["MetricName"]: alarm["Properties"] for alarm in alarms.values()}
    assert set(by_metric) == {"SystemErrors", "Throttles", Metric.TASKS_FAILED, Metric.TASKS_LOST}
    for name, alarm in by_metric.items():
        dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        if name in (Metric.TASKS_FAILED, Metric.TASKS_LOST):  # the agent's EMF metrics, whole runtime
            assert alarm["Namespace"] == Metric.NAMESPACE
            assert dimensions == {Metric.RUNTIME: "agentcore_async_staging"}
        else:
            assert alarm["Namespace"] == "AWS/Bedrock-AgentCore"
            assert dimensions["Operation"] == "InvokeAgentRuntime"
            assert dimensions["Name"] == "agentcore_async_staging::DEFAULT"
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
        assert alarm["TreatMissingData"] == "notBreaching"
        assert len(alarm["AlarmActions"]) == 1


def imported_runtime(stack: cdk.Stack) -> agentcore.IBedrockAgentRuntime:
    return agentcore.Runtime.from_agent_runtime_attributes(
        stack,
        "Runtime",
        agent_runtime_arn="arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/agent-abc1234567",
        agent_runtime_id="agent-abc1234567",
        agent_runtime_name="agent",
        role_arn="arn:aws:iam::123456789012:role/agent",
    )


def alarm_template(email: str | None) -> Template:
    stack = cdk.Stack(cdk.App(), "Alarms")
    RuntimeAlarms(
        stack,
        "Alarms",
        runtime=imported_runtime(stack),
        alarm_email=email,
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    return Template.from_stack(stack)


def test_alarms_use_the_metrics_the_runtime_l2_defines() -> None:
    """No dimension is hand-written: each alarm watches exactly what ``Runtime.metric_*`` returns."""
    stack = cdk.Stack(cdk.App(), "Alarms")
    runtime = imported_runtime(stack)
    RuntimeAlarms(
        stack, "Alarms", runtime=runtime, alarm_email=None, removal_policy=cdk.RemovalPolicy.DESTROY
    )
    expected = {
        name: {
            "Namespace": metric.namespace,
            "Dimensions": sorted(
                ({"Name": key, "Value": value} for key, value in (metric.dimensions or {}).items()),
                key=lambda dimension: str(dimension["Name"]),
            ),
            "Period": int(metric.period.to_seconds()),
            "Statistic": metric.statistic,
        }
        for name, metric in alarmed_metrics(runtime).items()
    }
    alarms = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")
    found = {
        alarm["Properties"]["MetricName"]: {key: alarm["Properties"][key] for key in expected["Throttles"]}
        for alarm in alarms.values()
    }
    assert found == expected
    assert expected["SystemErrors"]["Dimensions"][0] == {"Name": "Name", "Value": "agent::DEFAULT"}


ENDPOINT_ALARMED = ("SystemErrors", "Throttles")
ENDPOINT_CHARTED = ("Invocations", "SessionCount", "SystemErrors", "UserErrors", "Throttles", "Latency")


def _flat(value: Any) -> str:
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_flat(part) for part in parts)
    return value if isinstance(value, str) else "<reference>"


def uncovered_endpoints(template: dict[str, Any], runtime_name: str) -> list[str]:
    """Each endpoint (DEFAULT and every ``RuntimeEndpoint``) whose ``Name=<runtime>::<endpoint>``
    metrics lack an alarm or a dashboard line, as ``<endpoint>: <what>``."""
    endpoints = ["DEFAULT"] + [
        e["Properties"]["Name"]
        for e in resources(template, "AWS::BedrockAgentCore::RuntimeEndpoint").values()
    ]
    alarmed = {
        (a["Properties"]["MetricName"], d["Value"])
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "AWS/Bedrock-AgentCore"
        for d in a["Properties"]["Dimensions"]
        if d["Name"] == "Name"
    }
    [board] = resources(template, "AWS::CloudWatch::Dashboard").values()
    body = json.loads(_flat(board["Properties"]["DashboardBody"]))
    charted = {
        (line[1], dict(zip(line[2:-1:2], line[3:-1:2], strict=True)).get("Name"))
        for widget in body["widgets"]
        for line in widget.get("properties", {}).get("metrics", [])
        if line[0] == "AWS/Bedrock-AgentCore"
    }
    missing = []
    for endpoint in endpoints:
        name = f"{runtime_name}::{endpoint}"
        missing += [f"{endpoint}: no {m} alarm" for m in ENDPOINT_ALARMED if (m, name) not in alarmed]
        missing += [f"{endpoint}: no {m} chart" for m in ENDPOINT_CHARTED if (m, name) not in charted]
    return missing


def test_alarms_and_dashboard_cover_every_endpoint(
    synthesized: AllSynths, synthesized_variants: VariantSynths
) -> None:
    """AgentCore publishes a runtime's metrics per endpoint, ``Name=<runtime name>::<endpoint>``
    (the ``Runtime`` L2's ``metric_*`` fill in ``::DEFAULT``): a named endpoint's errors and
    throttles are alarmed and charted too."""
    for synth in [*synthesized.values(), *synthesized_variants.values()]:
        name = runtime_of(synth)["AgentRuntimeName"]
        assert uncovered_endpoints(synth.template("Runtime"), name) == [], (synth.stage, synth.preset)
    live = synthesized_variants["endpoint-live"].template("Runtime")
    assert resources(live, "AWS::BedrockAgentCore::RuntimeEndpoint")
    assert len(resources(live, "AWS::CloudWatch::Alarm")) == 6


def test_control_alarms_and_dashboard_of_default_only_miss_a_named_endpoint() -> None:
    """What the stack had before: alarms and dashboard from the L2's DEFAULT-only metrics."""
    stack = cdk.Stack(cdk.App(), "Alarms")
    runtime = imported_runtime(stack)
    alarms = RuntimeAlarms(
        stack, "Alarms", runtime=runtime, alarm_email=None, removal_policy=cdk.RemovalPolicy.DESTROY
    )
    RuntimeDashboard(stack, "Dashboard", dashboard_name="d", runtime=runtime, alarms=alarms.alarms)
    agentcore.CfnRuntimeEndpoint(stack, "Live", agent_runtime_id="agent-abc1234567", name="live")
    missing = uncovered_endpoints(Template.from_stack(stack).to_json(), "agent")
    assert missing == [
        "live: no SystemErrors alarm",
        "live: no Throttles alarm",
        *(f"live: no {m} chart" for m in ENDPOINT_CHARTED),
    ]


def test_alarm_email_subscribes_to_the_encrypted_topic_only_when_given() -> None:
    with_email = alarm_template("ops@example.com")
    with_email.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
    )
    with_email.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    alarm_template(None).resource_count_is("AWS::SNS::Subscription", 0)


# ---- caller auth (-c auth=jwt) and named endpoints (-c endpoint=NAME) ------------------------


def test_iam_stages_keep_sigv4_and_hand_no_header_to_the_agent(synthesized: AllSynths) -> None:
    for synth in synthesized.values():
        runtime = runtime_of(synth)
        assert "AuthorizerConfiguration" not in runtime and "RequestHeaderConfiguration" not in runtime
        assert EnvVar.AUTH not in runtime["EnvironmentVariables"]
        assert not resources(synth.template("Runtime"), "AWS::BedrockAgentCore::RuntimeEndpoint")


def test_jwt_with_a_created_pool_accepts_its_app_client(synthesized_variants: VariantSynths) -> None:
    template = synthesized_variants["jwt-cognito"].template("Runtime")
    runtime = runtime_of(synthesized_variants["jwt-cognito"])
    pool_id = next(iter(resources(template, "AWS::Cognito::UserPool")))
    client_id = next(iter(resources(template, "AWS::Cognito::UserPoolClient")))
    authorizer = runtime["AuthorizerConfiguration"]["CustomJWTAuthorizer"]
    assert authorizer["AllowedClients"] == [{"Ref": client_id}]
    assert {"Ref": pool_id} in authorizer["DiscoveryUrl"]["Fn::Join"][1]
    assert runtime["RequestHeaderConfiguration"] == {"RequestHeaderAllowlist": ["Authorization"]}
    assert runtime["EnvironmentVariables"][EnvVar.AUTH] == "jwt"
    pool = resources(template, "AWS::Cognito::UserPool")[pool_id]["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    client = resources(template, "AWS::Cognito::UserPoolClient")[client_id]["Properties"]
    assert "GenerateSecret" not in client or client["GenerateSecret"] is False
    assert set(template["Outputs"]) >= {"UserPoolId", "UserPoolClientId", "JwtDiscoveryUrl"}


USED_AUTH_FLOWS = {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
"""What callers do with the created client: sign in with a password (``initiate-auth``) or SRP, and
refresh the tokens."""
OAUTH_SETTINGS = (
    "AllowedOAuthFlows",
    "AllowedOAuthScopes",
    "CallbackURLs",
    "LogoutURLs",
    "DefaultRedirectURI",
)


def unused_client_settings(client: dict[str, Any]) -> list[str]:
    """Settings of an app client that callers never use: any hosted-UI OAuth flow, scope or
    redirect URL, and auth flows beyond :data:`USED_AUTH_FLOWS`."""
    found = [f"{key}={client[key]}" for key in OAUTH_SETTINGS if client.get(key)]
    if client.get("AllowedOAuthFlowsUserPoolClient"):
        found.append("AllowedOAuthFlowsUserPoolClient=True")
    extra = sorted(set(client.get("ExplicitAuthFlows", [])) - USED_AUTH_FLOWS)
    return found + ([f"ExplicitAuthFlows+{extra}"] if extra else [])


def test_the_created_app_client_allows_only_the_sign_ins_callers_use(
    synthesized_variants: VariantSynths,
) -> None:
    """No OAuth grant (an implicit grant to CDK's placeholder ``https://example.com`` callback would
    hand tokens to whoever owns that URL), scope or redirect: callers sign in with
    ``USER_PASSWORD_AUTH`` or SRP through the API, as the README shows."""
    [client] = resources(
        synthesized_variants["jwt-cognito"].template("Runtime"), "AWS::Cognito::UserPoolClient"
    ).values()
    assert unused_client_settings(client["Properties"]) == []
    assert set(client["Properties"]["ExplicitAuthFlows"]) == USED_AUTH_FLOWS


def test_control_an_app_client_with_cdks_oauth_defaults_is_reported() -> None:
    stack = cdk.Stack(cdk.App(), "Pool")
    pool = cognito.UserPool(stack, "Pool")
    pool.add_client("Cli", auth_flows=cognito.AuthFlow(user_password=True, user_srp=True, custom=True))
    [client] = Template.from_stack(stack).find_resources("AWS::Cognito::UserPoolClient").values()
    assert unused_client_settings(client["Properties"]) == [
        "AllowedOAuthFlows=['implicit', 'code']",
        "AllowedOAuthScopes=['profile', 'phone', 'email', 'openid', 'aws.cognito.signin.user.admin']",
        "CallbackURLs=['https://example.com']",
        "AllowedOAuthFlowsUserPoolClient=True",
        "ExplicitAuthFlows+['ALLOW_CUSTOM_AUTH']",
    ]


def test_jwt_with_an_external_issuer_names_it(synthesized_variants: VariantSynths) -> None:
    synth = synthesized_variants["jwt-external"]
    authorizer = runtime_of(synth)["AuthorizerConfiguration"]["CustomJWTAuthorizer"]
    assert authorizer == {
        "DiscoveryUrl": EXTERNAL_DISCOVERY_URL,
        "AllowedAudience": ["agentcore-async"],
        "AllowedClients": ["cli-client", "batch-client"],
    }
    assert not resources(synth.template("Runtime"), "AWS::Cognito::UserPool")
    assert synth.template("Runtime")["Outputs"]["JwtDiscoveryUrl"]["Value"] == EXTERNAL_DISCOVERY_URL


def test_a_named_endpoint_is_pinned_to_the_version_this_deploy_creates(
    synthesized_variants: VariantSynths,
) -> None:
    template = synthesized_variants["endpoint-live"].template("Runtime")
    [(runtime_id, _)] = resources(template, RUNTIME).items()
    [endpoint] = resources(template, "AWS::BedrockAgentCore::RuntimeEndpoint").values()
    assert endpoint["Properties"]["Name"] == "live"
    assert endpoint["Properties"]["AgentRuntimeId"] == {"Fn::GetAtt": [runtime_id, "AgentRuntimeId"]}
    assert endpoint["Properties"]["AgentRuntimeVersion"] == {
        "Fn::GetAtt": [runtime_id, "AgentRuntimeVersion"]
    }
    outputs = template["Outputs"]
    assert outputs["EndpointName"]["Value"] == "live"
    assert outputs["RuntimeVersion"]["Value"] == {"Fn::GetAtt": [runtime_id, "AgentRuntimeVersion"]}
    # AgentCore writes the endpoint's output to <runtime id>-live: kept for the stage's retention too.
    groups = [r["Properties"] for r in resources(template, "Custom::AgentCoreLogGroup").values()]
    assert any("-live" in json.dumps(group) for group in groups)


def test_endpoint_version_holds_the_endpoint_at_an_earlier_version(tmp_path: Path) -> None:
    synth = synthesize("dev", "development", tmp_path, {"endpoint": "live", "endpoint_version": "3"})
    [endpoint] = resources(synth.template("Runtime"), "AWS::BedrockAgentCore::RuntimeEndpoint").values()
    assert endpoint["Properties"]["AgentRuntimeVersion"] == "3"
    assert synth.template("Runtime")["Outputs"]["EndpointVersion"]["Value"] == "3"


def test_the_runtimes_traces_are_delivered_to_xray(synthesized: AllSynths) -> None:
    """AgentCore's own spans of the runtime reach X-Ray through a CloudWatch Logs delivery: a TRACES
    delivery source for the runtime, an XRAY destination and the delivery between them ("Add
    observability to your Amazon Bedrock AgentCore resources", Enabling observability for AgentCore
    runtime ... resources, https://docs.aws.amazon.com/bedrock-agentcore/latest/devguide/observability-configure.html)."""
    for synth in synthesized.values():
        template = synth.template("Runtime")
        [runtime_id] = resources(template, RUNTIME)
        [(source_id, source)] = resources(template, "AWS::Logs::DeliverySource").items()
        [(destination_id, destination)] = resources(template, "AWS::Logs::DeliveryDestination").items()
        [delivery] = resources(template, "AWS::Logs::Delivery").values()
        assert source["Properties"]["LogType"] == "TRACES"
        assert source["Properties"]["ResourceArn"] == {"Fn::GetAtt": [runtime_id, "AgentRuntimeArn"]}
        assert destination["Properties"]["DeliveryDestinationType"] == "XRAY"
        assert delivery["Properties"]["DeliverySourceName"] == {"Ref": source_id}
        assert delivery["Properties"]["DeliveryDestinationArn"] == {"Fn::GetAtt": [destination_id, "Arn"]}
        # X-Ray accepts the spans once its resource policy (shared by the stages) is in place.
        [policy_id] = resources(template, "Custom::XRayResourcePolicy")
        assert policy_id in destination["DependsOn"]
