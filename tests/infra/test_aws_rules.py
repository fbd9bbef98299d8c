"""Rules AWS enforces at deploy time that cfn-lint does not: every stage keeps each one.

Each rule has its source next to its checker in ``tests/infra/aws_rules.py`` and a control here:
a template that breaks the rule, which the checker must report.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from agentcore_async.contract import PRESET_NAMES
from tests.infra import aws_rules
from tests.infra.aws_rules import StageTemplates
from tests.infra.synth import AllSynths, VariantSynths

Checker = Callable[[StageTemplates], list[str]]


def findings_everywhere(synthesized: AllSynths, check: Checker) -> list[str]:
    return [
        f"{stage}/{preset}: {finding}"
        for (stage, preset), synth in synthesized.items()
        for finding in check(synth.templates)
    ]


CHECKERS: list[Checker] = [
    aws_rules.valkey_groups_hold_only_authenticating_users,
    aws_rules.runtime_subnets_in_supported_zone_ids,
    aws_rules.no_stack_owned_log_group_in_aws_name_spaces,
    aws_rules.names_match_aws_patterns,
    aws_rules.runtime_environment_within_limits,
    aws_rules.execution_role_trusts_only_agentcore,
    aws_rules.template_within_quotas,
    aws_rules.runtime_role_pulls_the_image_inline,
]


def test_the_example_state_machine_and_bus_names_are_checked(synthesized_variants: VariantSynths) -> None:
    """The name rules reach what ``-c example_state_machine=true`` adds (the variants keep every
    rule: ``test_the_feature_variants_keep_every_rule``)."""
    checked = {entry.rule.kind for entry in aws_rules.named(synthesized_variants["example"].templates)}
    assert {"AWS::StepFunctions::StateMachine", "AWS::Events::EventBus"} <= checked


def runtime(**properties: Any) -> dict[str, Any]:
    return {"Type": aws_rules.RUNTIME, "Properties": {"AgentRuntimeName": "agent_dev", **properties}}


# ---- 1. Valkey user groups hold only users that authenticate --------------------------------


def test_valkey_user_groups_hold_only_authenticating_users(synthesized: AllSynths) -> None:
    """Source: ``aws_rules.VALKEY_GROUP_SOURCE``."""
    assert findings_everywhere(synthesized, aws_rules.valkey_groups_hold_only_authenticating_users) == []


def test_control_a_no_password_default_user_in_a_valkey_group_is_reported() -> None:
    storage = {
        "Resources": {
            "Agent": {
                "Type": "AWS::ElastiCache::User",
                "Properties": {"UserName": "a", "UserId": "a", "AuthenticationMode": {"Type": "iam"}},
            },
            "Default": {
                "Type": "AWS::ElastiCache::User",
                "Properties": {
                    "UserName": "default",
                    "UserId": "c-default",
                    "AccessString": "off ~* -@all",
                    "AuthenticationMode": {"Type": "no-password-required"},
                },
            },
            "Users": {
                "Type": "AWS::ElastiCache::UserGroup",
                "Properties": {"Engine": "valkey", "UserIds": [{"Ref": "Default"}, {"Ref": "Agent"}]},
            },
        }
    }
    [finding] = aws_rules.valkey_groups_hold_only_authenticating_users({"Storage": storage})
    assert "default authenticates with no-password-required" in finding


# ---- 2. a VPC runtime's subnets sit in supported Availability Zone IDs ----------------------


def test_runtime_subnets_are_placed_by_supported_zone_ids(synthesized: AllSynths) -> None:
    """Source: ``aws_rules.SUBNET_ZONE_SOURCE``."""
    assert findings_everywhere(synthesized, aws_rules.runtime_subnets_in_supported_zone_ids) == []
    vpc_stages = [synth for (stage, _), synth in synthesized.items() if stage != "dev"]
    assert vpc_stages
    assert all("Mappings" in synth.template("Network") for synth in vpc_stages)


def vpc_stage(*subnets: dict[str, Any], mappings: dict[str, Any] | None = None) -> dict[str, Any]:
    network: dict[str, Any] = {
        "Resources": {
            f"Subnet{i}": {"Type": "AWS::EC2::Subnet", "Properties": props} for i, props in enumerate(subnets)
        },
        "Outputs": {
            f"Out{i}": {"Value": {"Ref": f"Subnet{i}"}, "Export": {"Name": f"net-subnet-{i}"}}
            for i in range(len(subnets))
        },
    }
    if mappings:
        network["Mappings"] = mappings
    refs = [{"Fn::ImportValue": f"net-subnet-{i}"} for i in range(len(subnets))]
    config = {"NetworkMode": "VPC", "NetworkModeConfig": {"Subnets": refs, "SecurityGroups": ["sg-1"]}}
    return {"Network": network, "Runtime": {"Resources": {"Agent": runtime(NetworkConfiguration=config)}}}


def test_control_subnets_by_zone_name_or_unsupported_zone_id_are_reported() -> None:
    by_name = vpc_stage({"AvailabilityZone": {"Fn::Select": [0, {"Fn::GetAZs": ""}]}})
    assert any("placed by zone name" in f for f in aws_rules.runtime_subnets_in_supported_zone_ids(by_name))
    unsupported = vpc_stage(
        {"AvailabilityZoneId": {"Fn::FindInMap": ["Zones", {"Ref": "AWS::Region"}, "Zone1"]}},
        mappings={"Zones": {"us-east-1": {"Zone1": "use1-az3"}, "af-south-1": {"Zone1": "afs1-az1"}}},
    )
    findings = aws_rules.runtime_subnets_in_supported_zone_ids(unsupported)
    assert any("use1-az3 in us-east-1 is unsupported" in f for f in findings)
    assert any("afs1-az1 in af-south-1 is unsupported (supported: none listed)" in f for f in findings)
    mixed = vpc_stage({"AvailabilityZoneId": "use1-az1"}, {"AvailabilityZoneId": "euw1-az1"})
    assert any("several regions" in f for f in aws_rules.runtime_subnets_in_supported_zone_ids(mixed))


# ---- 3. nothing the stack owns sits in a name space AWS creates itself ----------------------


def test_no_stack_owned_log_group_in_a_name_space_aws_creates(synthesized: AllSynths) -> None:
    """Sources: ``aws_rules.AWS_CREATED_LOG_GROUPS``."""
    assert findings_everywhere(synthesized, aws_rules.no_stack_owned_log_group_in_aws_name_spaces) == []


def test_control_a_stack_owned_runtime_log_group_is_reported() -> None:
    name = {
        "Fn::Join": [
            "",
            ["/aws/bedrock-agentcore/runtimes/", {"Fn::GetAtt": ["Agent", "AgentRuntimeId"]}, "-DEFAULT"],
        ]
    }
    template = {"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": name}}}}
    [finding] = aws_rules.no_stack_owned_log_group_in_aws_name_spaces({"Runtime": template})
    assert "which AWS creates itself" in finding


# ---- 4. names match AWS's patterns and lengths ----------------------------------------------


def test_every_name_matches_its_aws_pattern_and_length(synthesized: AllSynths) -> None:
    """Sources: ``aws_rules.NAME_RULES`` and ``aws_rules.IAM_USER_SOURCE``."""
    assert findings_everywhere(synthesized, aws_rules.names_match_aws_patterns) == []
    checked = {
        entry.rule.kind for synth in synthesized.values() for entry in aws_rules.named(synth.templates)
    }
    assert {
        aws_rules.RUNTIME,
        "AWS::ElastiCache::ServerlessCache",
        "AWS::Logs::LogGroup",
        "AWS::Events::EventBus",
        "AWS::CloudWatch::Dashboard",
        "AWS::Logs::DeliverySource",
        "AWS::Logs::DeliveryDestination",
    } <= checked


def named_resource(kind: str, **properties: Any) -> dict[str, Any]:
    return {"Type": kind, "Properties": properties}


REFUSED_NAMES: dict[str, tuple[dict[str, Any], str]] = {
    "Agent": (runtime(AgentRuntimeName="agentcore-async-dev"), "'agentcore-async-dev'"),
    "Cache": (named_resource("AWS::ElastiCache::ServerlessCache", ServerlessCacheName="Cache"), "'Cache'"),
    "User": (
        named_resource(
            "AWS::ElastiCache::User",
            UserId="agent_dev",
            UserName="agent_dev",
            AuthenticationMode={"Type": "iam"},
        ),
        "'agent_dev'",
    ),
    "Users": (
        named_resource("AWS::ElastiCache::UserGroup", UserGroupId="agent_users", Engine="valkey", UserIds=[]),
        "'agent_users'",
    ),
    "Logs": (named_resource("AWS::Logs::LogGroup", LogGroupName="agent logs"), "'agent logs'"),
    "Role": (named_resource("AWS::IAM::Role", RoleName="r" * 65), "'rrrr"),
    "Bus": (named_resource("AWS::Events::EventBus", Name="task events"), "'task events'"),
    "Machine": (named_resource("AWS::StepFunctions::StateMachine", StateMachineName="m" * 81), "'mmmm"),
    "Board": (named_resource("AWS::CloudWatch::Dashboard", DashboardName="agent dev"), "'agent dev'"),
    "Policy": (named_resource("AWS::XRay::ResourcePolicy", PolicyName="agent/dev"), "'agent/dev'"),
    "Source": (named_resource("AWS::Logs::DeliverySource", Name="s" * 61), "'ssss"),
    "Destination": (
        named_resource("AWS::Logs::DeliveryDestination", Name="runtime.traces"),
        "'runtime.traces'",
    ),
    "Repository": (
        named_resource("AWS::ECR::Repository", RepositoryName="agentcore-async/Dev"),
        "'agentcore-async/Dev'",
    ),
}
"""One resource per name rule, each with a name its rule refuses (too long, or a character or case
the pattern lacks), and what its finding quotes."""
REFUSED_TEMPLATE: dict[str, Any] = {
    "Resources": {
        **{logical_id: resource for logical_id, (resource, _) in REFUSED_NAMES.items()},
        "Group": named_resource(
            "Custom::AgentCoreLogGroup",
            Create=json.dumps({"action": "CreateLogGroup", "parameters": {"logGroupName": "runtime logs"}}),
        ),
        "Renamed": named_resource(
            "AWS::ElastiCache::User", UserId="agent", UserName="other", AuthenticationMode={"Type": "iam"}
        ),
    }
}


def test_control_names_aws_refuses_are_reported() -> None:
    findings = aws_rules.names_match_aws_patterns({"Runtime": REFUSED_TEMPLATE})
    for logical_id, (_, quoted) in REFUSED_NAMES.items():
        assert any(
            f.startswith(f"Runtime/{logical_id}: ") and quoted in f and " breaks " in f for f in findings
        ), logical_id
    assert any(f.startswith("Runtime/Group.Create: ") and "'runtime logs' breaks" in f for f in findings)
    assert "Runtime/Renamed: IAM user's name other is not its id" in findings
    assert len(findings) == len(REFUSED_NAMES) + 2
    # Each rule of ``aws_rules.NAME_RULES`` is shown (above) to fail on a resource of its own type.
    refused_kinds = {resource["Type"] for resource, _ in REFUSED_NAMES.values()}
    missing = {rule.kind for rule in aws_rules.NAME_RULES} - refused_kinds
    assert not missing, f"name rules without a control that breaks them: {sorted(missing)}"


# ---- 5. the runtime's environment fits AgentCore's limits -----------------------------------


def test_runtime_environment_fits_the_limits(synthesized: AllSynths) -> None:
    """Source: ``aws_rules.ENVIRONMENT_SOURCE``."""
    assert findings_everywhere(synthesized, aws_rules.runtime_environment_within_limits) == []


def test_control_too_many_or_too_long_variables_are_reported() -> None:
    many = {f"VAR_{i}": "x" for i in range(aws_rules.MAX_VARIABLES + 1)}
    template = {"Resources": {"Agent": runtime(EnvironmentVariables=many)}}
    assert any(
        "51 environment variables" in f
        for f in aws_rules.runtime_environment_within_limits({"Runtime": template})
    )
    joined = {"Fn::Join": ["", ["x" * 1800, {"Fn::ImportValue": "somewhere-else"}]]}
    long_values = {"LITERAL": "x" * 2049, "RESOLVED": joined, "1BAD": "x"}
    template = {"Resources": {"Agent": runtime(EnvironmentVariables=long_values)}}
    findings = "\n".join(aws_rules.runtime_environment_within_limits({"Runtime": template}))
    assert "LITERAL may be 2049 characters" in findings
    assert "RESOLVED may be 2055 characters" in findings
    assert "'1BAD' is invalid" in findings


# ---- 6. the execution role trusts AgentCore only --------------------------------------------


def test_execution_role_trusts_only_agentcore_in_this_account(synthesized: AllSynths) -> None:
    """Source: ``aws_rules.TRUST_SOURCE``."""
    assert findings_everywhere(synthesized, aws_rules.execution_role_trusts_only_agentcore) == []


def test_control_a_role_trusting_another_principal_is_reported() -> None:
    trust = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}
    role = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Statement": [trust]}}}
    template = {"Resources": {"Role": role, "Agent": runtime(RoleArn={"Fn::GetAtt": ["Role", "Arn"]})}}
    [finding] = aws_rules.execution_role_trusts_only_agentcore({"Runtime": template})
    assert "lambda.amazonaws.com" in finding


# ---- 7. two stages deploy side by side ------------------------------------------------------


@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_fixed_names_carry_the_stage(synthesized: AllSynths, preset: str) -> None:
    """Source: ``aws_rules.SIDE_BY_SIDE_SOURCE``."""
    stages = {stage: synth.templates for (stage, p), synth in synthesized.items() if p == preset}
    assert len(stages) == 3
    assert aws_rules.fixed_names_carry_the_stage(stages) == []
    assert all(any(True for _ in aws_rules.fixed_names(templates)) for templates in stages.values())


def test_control_names_without_the_stage_or_shared_by_stages_are_reported() -> None:
    def stage(name: str, export: str) -> dict[str, Any]:
        return {
            "Runtime": {
                "Resources": {"Agent": runtime(AgentRuntimeName=name)},
                "Outputs": {"Out": {"Value": "x", "Export": {"Name": export}}},
            }
        }

    findings = aws_rules.fixed_names_carry_the_stage(
        {"dev": stage("agent_dev", "shared-dev-prod"), "prod": stage("agent", "shared-dev-prod")}
    )
    assert any("'agent' does not name the stage" in f for f in findings)
    assert any("'shared-dev-prod' is also a name in dev" in f for f in findings)


# ---- 8. each template within CloudFormation's quotas ----------------------------------------


def test_templates_fit_cloudformation_quotas(synthesized: AllSynths) -> None:
    """Source: ``aws_rules.QUOTA_SOURCE``."""
    assert findings_everywhere(synthesized, aws_rules.template_within_quotas) == []


def test_control_templates_over_the_quotas_are_reported() -> None:
    queue = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "q" * 2000}}
    big = {
        "Resources": {f"Queue{i}": queue for i in range(501)},
        "Outputs": {f"Out{i}": {"Value": "x"} for i in range(201)},
        "Description": "d" * 1025,
    }
    findings = "\n".join(aws_rules.template_within_quotas({"Storage": big}))
    for expected in ("501 Resources", "201 Outputs", "template is", "description is 1025 bytes"):
        assert expected in findings


# ---- 9. request headers handed to the container ----------------------------------------------


def test_request_headers_are_ones_agentcore_lets_through(
    synthesized: AllSynths, synthesized_variants: VariantSynths
) -> None:
    """Source: ``aws_rules.HEADER_ALLOWLIST_SOURCE``."""
    assert findings_everywhere(synthesized, aws_rules.request_headers_allowed) == []
    jwt = synthesized_variants["jwt-cognito"].templates
    assert aws_rules.request_headers_allowed(jwt) == []
    [(_, runtime_props)] = aws_rules.resources(jwt["Runtime"], aws_rules.RUNTIME)
    assert runtime_props["RequestHeaderConfiguration"]["RequestHeaderAllowlist"] == ["Authorization"]


def test_control_headers_agentcore_refuses_are_reported() -> None:
    jwt = {"CustomJWTAuthorizer": {"DiscoveryUrl": "https://x/.well-known/openid-configuration"}}
    allow = {"RequestHeaderAllowlist": ["Authorization"]}
    iam_with_authorization = {"Resources": {"R": runtime(RequestHeaderConfiguration=allow)}}
    assert aws_rules.request_headers_allowed({"Runtime": iam_with_authorization}) == [
        "Runtime/R: request header Authorization needs a CustomJWTAuthorizer"
    ]
    bad = ["authorization", "Authorization", "X-Amz-Date", "X-Amzn-Trace-Id", "Content-Type"]
    with_jwt = runtime(
        AuthorizerConfiguration=jwt, RequestHeaderConfiguration={"RequestHeaderAllowlist": bad}
    )
    findings = aws_rules.request_headers_allowed({"Runtime": {"Resources": {"R": with_jwt}}})
    assert findings == [
        "Runtime/R: request header Authorization is listed twice (names are case-insensitive)",
        "Runtime/R: request header X-Amz-Date has a prefix reserved for AWS",
        "Runtime/R: request header X-Amzn-Trace-Id has a prefix reserved for AWS",
        "Runtime/R: request header Content-Type is restricted",
    ]
    custom = runtime(
        RequestHeaderConfiguration={
            "RequestHeaderAllowlist": ["X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant"]
        }
    )
    assert aws_rules.request_headers_allowed({"Runtime": {"Resources": {"R": custom}}}) == []


# ---- every rule holds for the feature variants too (auth=jwt, endpoint=live, example) ----------

STAGE_CHECKERS: list[Checker] = [
    aws_rules.valkey_groups_hold_only_authenticating_users,
    aws_rules.runtime_subnets_in_supported_zone_ids,
    aws_rules.no_stack_owned_log_group_in_aws_name_spaces,
    aws_rules.names_match_aws_patterns,
    aws_rules.runtime_environment_within_limits,
    aws_rules.execution_role_trusts_only_agentcore,
    aws_rules.template_within_quotas,
    aws_rules.request_headers_allowed,
    aws_rules.runtime_role_pulls_the_image_inline,
]


@pytest.mark.parametrize("check", STAGE_CHECKERS, ids=lambda check: check.__name__)
def test_the_feature_variants_keep_every_rule(synthesized_variants: VariantSynths, check: Checker) -> None:
    findings = [
        f"{name}: {finding}"
        for name, synth in synthesized_variants.items()
        for finding in check(synth.templates)
    ]
    assert findings == []
    for name, synth in synthesized_variants.items():
        assert aws_rules.fixed_names_carry_the_stage({synth.stage: synth.templates}) == [], name


# ---- 10. X-Ray resource policies of all stages fit one account -------------------------------

XRAY_REGIONS = ("us-east-1", "eu-central-1", "ap-southeast-2")
"""Regions every stage is deployed to side by side in one account, for the count."""


@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_xray_resource_policies_of_all_stages_fit_one_account(synthesized: AllSynths, preset: str) -> None:
    """Source: ``aws_rules.XRAY_POLICY_SOURCE``."""
    deployments = {
        (stage, region): synth.templates
        for (stage, p), synth in synthesized.items()
        if p == preset
        for region in XRAY_REGIONS
    }
    assert aws_rules.xray_policies_fit_one_account(deployments) == []
    for stage in deployments.values():  # every stage puts it: any may be the first in its region
        assert len(list(aws_rules.xray_policies(stage, aws_rules.SAMPLES))) == 1


def test_the_feature_variants_share_the_xray_policy(
    synthesized: AllSynths, synthesized_variants: VariantSynths
) -> None:
    deployments = {
        (f"{stage}-{p}", "us-east-1"): synth.templates for (stage, p), synth in synthesized.items()
    }
    deployments |= {(name, "us-east-1"): synth.templates for name, synth in synthesized_variants.items()}
    assert aws_rules.xray_policies_fit_one_account(deployments) == []


def xray_stage(name: Any, document: Any) -> dict[str, Any]:
    policy = {
        "Type": "AWS::XRay::ResourcePolicy",
        "Properties": {"PolicyName": name, "PolicyDocument": document},
    }
    return {"Runtime": {"Resources": {"Policy": policy}}}


def test_control_a_policy_per_stage_is_reported() -> None:
    """What the Runtime L2's tracing does: one policy per Runtime stack, named after the stack."""
    deployments = {
        (stage, region): xray_stage(f"AgentCoreAsync{stage}RuntimeCdkXRayLogsDeliveryPolicy", "{}")
        for stage in ("dev", "staging", "prod")
        for region in ("us-east-1", "eu-west-1")
    }
    findings = aws_rules.xray_policies_fit_one_account(deployments)
    assert findings == [
        "3 X-Ray resource policies in us-east-1 (the project's: 1)",
        "3 X-Ray resource policies in eu-west-1 (the project's: 1)",
    ]


def test_control_a_shared_name_with_stage_specific_documents_or_too_large_is_reported() -> None:
    arn = {"Fn::Join": ["", ["arn:aws:xray:", {"Ref": "AWS::Region"}, ":runtime/agent"]]}
    per_stage = {
        ("dev", "us-east-1"): xray_stage("shared", "dev"),
        ("prod", "us-east-1"): xray_stage("shared", arn),
    }
    [finding] = aws_rules.xray_policies_fit_one_account(per_stage)
    assert finding.startswith(
        "us-east-1: dev@us-east-1 Runtime/Policy, prod@us-east-1 Runtime/Policy put different"
    )
    large = {("dev", "us-east-1"): xray_stage("agent/dev", "x" * 5121)}
    assert aws_rules.xray_policies_fit_one_account(large) == [
        "dev@us-east-1 Runtime/Policy: policy document over 5120 bytes or unreadable",
        "dev@us-east-1 Runtime/Policy: policy name 'agent/dev' breaks [\\w+=,.@-]{1,128}",
    ]


# ---- 11. the execution role can pull the image when the runtime is created -------------------


def test_the_runtime_role_pulls_the_image_with_inline_permissions(synthesized: AllSynths) -> None:
    """Source: ``aws_rules.IMAGE_PULL_SOURCE``."""
    assert findings_everywhere(synthesized, aws_rules.runtime_role_pulls_the_image_inline) == []


def test_control_an_image_pull_statement_added_to_the_role_later_is_reported() -> None:
    """The ECR pull moved from the role's inline policy to ``add_to_policy`` (its DefaultPolicy)."""
    import aws_cdk as cdk  # noqa: PLC0415 - jsii only for this control
    from aws_cdk import aws_bedrockagentcore as agentcore  # noqa: PLC0415
    from aws_cdk import aws_iam as iam  # noqa: PLC0415

    stack = cdk.Stack(cdk.App(), "Runtime")
    others = [
        a
        for a in aws_rules.IMAGE_PULL_ACTIONS
        if a not in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
    ]
    role = iam.Role(
        stack,
        "Role",
        assumed_by=iam.ServicePrincipal(aws_rules.AGENTCORE_PRINCIPAL),
        inline_policies={
            "Pull": iam.PolicyDocument(statements=[iam.PolicyStatement(actions=others, resources=["*"])])
        },
    )
    role.add_to_policy(
        iam.PolicyStatement(actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], resources=["*"])
    )
    agentcore.CfnRuntime(
        stack,
        "Agent",
        agent_runtime_name="agent",
        role_arn=role.role_arn,
        network_configuration=agentcore.CfnRuntime.NetworkConfigurationProperty(network_mode="PUBLIC"),
        agent_runtime_artifact=agentcore.CfnRuntime.AgentRuntimeArtifactProperty(
            container_configuration=agentcore.CfnRuntime.ContainerConfigurationProperty(container_uri="x")
        ),
    )
    template = cdk.assertions.Template.from_stack(stack).to_json()
    findings = aws_rules.runtime_role_pulls_the_image_inline({"Runtime": template})
    assert len(findings) == 2
    assert "lacks inline ecr:BatchGetImage, ecr:GetDownloadUrlForLayer" in findings[0]
    assert "attaches ecr:BatchGetImage, ecr:GetDownloadUrlForLayer after the role" in findings[1]
