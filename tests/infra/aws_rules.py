"""Rules AWS enforces at deploy time that cfn-lint does not check, each with the page it comes from.

Every checker reads the synthesized templates of one stage (``{"Network": ..., "Runtime": ...}``)
and returns its findings, one line each; an empty list means the stage keeps the rule.
``tests/infra/test_aws_rules.py`` runs each over every stage and over a control that breaks it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from stacks.availability_zones import SUPPORTED_AZ_IDS

Template = dict[str, Any]
StageTemplates = Mapping[str, Template]
"""One stage's templates by stack part: ``Network`` (VPC stages), ``Storage``, ``Image``, ``Runtime``."""

RUNTIME: Final = "AWS::BedrockAgentCore::Runtime"


# ---- reading templates -----------------------------------------------------------------------


def resources(template: Template, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(logical id, properties) of every resource of one type."""
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") == kind:
            yield logical_id, resource.get("Properties", {})


@dataclass(frozen=True)
class Located:
    """A value and the template it must be read in (imports lead to the exporting template)."""

    template: Template
    value: Any


def follow(value: Any, template: Template, stage: StageTemplates) -> Located:
    """Resolve ``Fn::ImportValue`` of a literal export name to the exported value, repeatedly."""
    while (
        isinstance(value, dict)
        and set(value) == {"Fn::ImportValue"}
        and isinstance(value["Fn::ImportValue"], str)
    ):
        name = value["Fn::ImportValue"]
        exported = [
            (source, output["Value"])
            for source in stage.values()
            for output in source.get("Outputs", {}).values()
            if output.get("Export", {}).get("Name") == name
        ]
        if len(exported) != 1:
            return Located(template, value)
        template, value = exported[0]
    return Located(template, value)


def referenced(located: Located) -> tuple[str, dict[str, Any]] | None:
    """(type, resource) a ``Ref`` or ``Fn::GetAtt`` points at, in the template it is read in."""
    value = located.value
    if not isinstance(value, dict):
        return None
    name = value.get("Ref") or (value.get("Fn::GetAtt") or [None])[0]
    resource = located.template.get("Resources", {}).get(name) if isinstance(name, str) else None
    return (resource["Type"], resource) if resource else None


REFERENCE_BOUND: Final = 255
"""Characters a resolved reference may stand for in a length check: the longest name among the
resource types the templates reference (a DynamoDB table name, 3-255 characters; S3 bucket names
have at most 63, ElastiCache ids 40, host names 253). Source: DynamoDB Developer Guide, "Supported
data types and naming rules in Amazon DynamoDB",
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html"""

SAMPLES: Final = {
    "AgentRuntimeId": "a" * 100 + "-" + "A" * 10,
    "AWS::Region": "us-gov-west-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws-us-gov",
    "AWS::URLSuffix": "amazonaws.com.cn",
}
"""Longest values of the references a checked name or value contains. A runtime id is the runtime
name and a 10-character suffix, ``[a-zA-Z][a-zA-Z0-9_]{0,99}-[a-zA-Z0-9]{10}`` (AWS CLI reference,
bedrock-agentcore-control create-agent-runtime-endpoint, --agent-runtime-id,
https://docs.aws.amazon.com/cli/latest/reference/bedrock-agentcore-control/create-agent-runtime-endpoint.html)."""


def render(value: Any, fallback: str | None = None, samples: Mapping[str, str] = SAMPLES) -> str | None:
    """A string value with every reference replaced by its sample (by default its longest).

    A reference without a sample becomes ``fallback`` (``None``: the value cannot be rendered).
    """
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return str(value)
    if not isinstance(value, dict) or len(value) != 1:
        return fallback
    [(function, argument)] = value.items()
    if function in ("Ref", "Fn::GetAtt"):
        return samples.get(argument if function == "Ref" else argument[1], fallback)
    if function != "Fn::Join":
        return fallback
    separator, parts = argument
    rendered = [render(part, fallback, samples) for part in parts]
    return None if None in rendered else separator.join(str(part) for part in rendered)


# ---- 1. Valkey user groups -------------------------------------------------------------------

VALKEY_GROUP_SOURCE: Final = (
    'ElastiCache User Guide, "Role-Based Access Control (RBAC)": "A user group configured for the '
    "'VALKEY' engine can only contain users using an authentication mechanism (password or IAM)\" - "
    "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.RBAC.html"
)


def valkey_groups_hold_only_authenticating_users(stage: StageTemplates) -> list[str]:
    """Every member of a Valkey user group authenticates with a password or IAM."""
    findings = []
    for part, template in stage.items():
        users = dict(resources(template, "AWS::ElastiCache::User"))
        for group_id, group in resources(template, "AWS::ElastiCache::UserGroup"):
            if str(group.get("Engine", "")).lower() != "valkey":
                continue
            for member in group.get("UserIds", []):
                user = users.get(member.get("Ref", "")) if isinstance(member, dict) else None
                if user is None:
                    findings.append(f"{part}/{group_id}: member {member} is no user of this template")
                    continue
                mode = user.get("AuthenticationMode", {}).get("Type")
                if mode not in ("iam", "password") or user.get("NoPasswordRequired") is True:
                    findings.append(
                        f"{part}/{group_id}: user {user.get('UserName')} authenticates with {mode}"
                    )
    return findings


# ---- 2. subnets of a VPC runtime -------------------------------------------------------------

SUBNET_ZONE_SOURCE: Final = (
    'AgentCore Developer Guide, "Configure Amazon Bedrock AgentCore Runtime and tools for VPC", '
    '"Supported Availability Zones": "If you specify subnets in unsupported Availability Zones, the '
    'configuration will fail during resource creation." - '
    "https://docs.aws.amazon.com/bedrock-agentcore/latest/devguide/agentcore-vpc.html#agentcore-supported-azs"
)


def _zone_choices(zone: Any, template: Template) -> dict[str, str] | None:
    """Region -> zone ID a subnet's ``AvailabilityZoneId`` takes, or ``None`` if it is no such value.

    A literal ID belongs to the region that lists it; a ``Fn::FindInMap`` keyed by the deploy
    region takes one value per region of the mapping.
    """
    if isinstance(zone, str):
        regions = [region for region, ids in SUPPORTED_AZ_IDS.items() if zone in ids]
        return {regions[0] if regions else "<unlisted>": zone}
    if not isinstance(zone, dict) or set(zone) != {"Fn::FindInMap"}:
        return None
    mapping, region_key, attribute = zone["Fn::FindInMap"]
    if region_key != {"Ref": "AWS::Region"} or not isinstance(mapping, str):
        return None
    rows = template.get("Mappings", {}).get(mapping, {})
    return {region: row.get(attribute) for region, row in rows.items()}


def _subnet_findings(where: str, subnet_ref: Any, stage: StageTemplates) -> tuple[list[str], set[str]]:
    """Findings on one subnet of a runtime, and the region its literal zone ID belongs to."""
    located = follow(subnet_ref, stage["Runtime"], stage)
    target = referenced(located)
    if target is None or target[0] != "AWS::EC2::Subnet":
        return [f"{where}: subnet {subnet_ref} is no subnet of this stage"], set()
    subnet = target[1].get("Properties", {})
    findings = []
    if "AvailabilityZone" in subnet:
        findings.append(f"{where}: subnet placed by zone name {subnet['AvailabilityZone']}")
    zone = subnet.get("AvailabilityZoneId")
    choices = _zone_choices(zone, located.template)
    if choices is None:
        return [*findings, f"{where}: subnet has no Availability Zone ID: {subnet}"], set()
    for region, choice in choices.items():
        if choice not in SUPPORTED_AZ_IDS.get(region, ()):
            listed = ", ".join(SUPPORTED_AZ_IDS.get(region, ())) or "none listed"
            findings.append(f"{where}: {choice} in {region} is unsupported (supported: {listed})")
    return findings, set(choices) if isinstance(zone, str) else set()


def runtime_subnets_in_supported_zone_ids(stage: StageTemplates) -> list[str]:
    """A VPC-mode runtime's subnets are placed by a supported Availability Zone ID, in any region."""
    findings = []
    for runtime_id, runtime in resources(stage.get("Runtime", {}), RUNTIME):
        network = runtime.get("NetworkConfiguration", {})
        if network.get("NetworkMode") != "VPC":
            continue
        regions: set[str] = set()
        for subnet_ref in network.get("NetworkModeConfig", {}).get("Subnets", []):
            subnet_findings, subnet_regions = _subnet_findings(f"Runtime/{runtime_id}", subnet_ref, stage)
            findings += subnet_findings
            regions |= subnet_regions
        if len(regions) > 1:
            findings.append(f"Runtime/{runtime_id}: subnets in zones of several regions {sorted(regions)}")
    return findings


# ---- 3. names AWS creates itself -------------------------------------------------------------

AWS_CREATED_LOG_GROUPS: Final = {
    "/aws/bedrock-agentcore/": (
        "AgentCore writes a runtime endpoint's output to /aws/bedrock-agentcore/runtimes/<runtime id>-"
        "<endpoint> and creates that group itself; the CDK Runtime L2 only imports it (aws-cdk-lib "
        'aws_bedrockagentcore README, "Application log group": "The log group itself is created by the '
        'AgentCore service ..., not by CDK") - '
        "https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_bedrockagentcore-readme.html"
    ),
    "/aws/lambda/": (
        "Lambda creates /aws/lambda/<function name> for a function without a configured log group "
        '(Lambda Developer Guide, "Sending Lambda function logs to CloudWatch Logs") - '
        "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html"
    ),
    "/aws/codebuild/": (
        "CodeBuild creates /aws/codebuild/<project name> for a project without a configured group "
        '(CodeBuild User Guide, "View build logs in CloudWatch") - '
        "https://docs.aws.amazon.com/codebuild/latest/userguide/view-build-details.html"
    ),
}
"""Log-group name spaces AWS services create groups in themselves, with the page saying so."""


def no_stack_owned_log_group_in_aws_name_spaces(stage: StageTemplates) -> list[str]:
    """No ``AWS::Logs::LogGroup`` claims a name a service creates itself ("already exists")."""
    findings = []
    for part, template in stage.items():
        for logical_id, group in resources(template, "AWS::Logs::LogGroup"):
            if "LogGroupName" not in group:
                continue
            name = render(group["LogGroupName"], fallback="<reference>") or ""
            for prefix in AWS_CREATED_LOG_GROUPS:
                if name.startswith(prefix):
                    findings.append(f"{part}/{logical_id}: owns {name}, which AWS creates itself")
    return findings


# ---- 4. name patterns and lengths ------------------------------------------------------------


@dataclass(frozen=True)
class NameRule:
    """The pattern a named resource's name must match in full, and where that is written."""

    kind: str
    prop: str
    pattern: str
    max_length: int | None
    source: str


NAME_RULES: Final = (
    NameRule(
        RUNTIME,
        "AgentRuntimeName",
        r"[a-zA-Z][a-zA-Z0-9_]{0,47}",
        48,
        "CloudFormation Template Reference, AWS::BedrockAgentCore::Runtime, AgentRuntimeName - "
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-bedrockagentcore-runtime.html",
    ),
    NameRule(
        "AWS::ElastiCache::ServerlessCache",
        "ServerlessCacheName",
        r"[a-z][a-z0-9-]*",
        40,
        'ElastiCache API Reference, CreateServerlessCache: the name "is stored as a lowercase string" '
        "(https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateServerlessCache.html); "
        "the runtime passes it to the agent as AGENT_REDIS_CACHE_NAME, which accepts ^[a-z][a-z0-9-]{0,39}$ "
        "(agent/settings.py) and signs IAM tokens for it in lower case (ElastiCache User Guide, "
        '"Authenticating with IAM")',
    ),
    NameRule(
        "AWS::ElastiCache::User",
        "UserId",
        r"[a-z][a-z0-9\-]*",
        40,
        "the agent's IAM user arrives as AGENT_REDIS_IAM_USER, which accepts ^[a-z][a-z0-9-]{0,39}$; "
        "CloudFormation resource schema of AWS::ElastiCache::User, UserId [a-z][a-z0-9\\-]* - "
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-elasticache-user.html",
    ),
    NameRule(
        "AWS::ElastiCache::UserGroup",
        "UserGroupId",
        r"[a-z][a-z0-9\-]*",
        None,
        "CloudFormation resource schema of AWS::ElastiCache::UserGroup, UserGroupId [a-z][a-z0-9\\-]* - "
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-elasticache-usergroup.html",
    ),
    NameRule(
        "AWS::Logs::LogGroup",
        "LogGroupName",
        r"[.\-_/#A-Za-z0-9]+",
        512,
        "CloudWatch Logs API Reference, CreateLogGroup, logGroupName - "
        "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html",
    ),
    NameRule(
        "AWS::IAM::Role",
        "RoleName",
        r"[\w+=,.@-]+",
        64,
        "IAM API Reference, CreateRole, RoleName - "
        "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html",
    ),
    NameRule(
        "AWS::Events::EventBus",
        "Name",
        r"[/\.\-_A-Za-z0-9]+",
        256,
        "Amazon EventBridge API Reference, CreateEventBus, Name - "
        "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_CreateEventBus.html",
    ),
    NameRule(
        "AWS::StepFunctions::StateMachine",
        "StateMachineName",
        r"[0-9A-Za-z_-]+",
        80,
        "Step Functions API Reference, CreateStateMachine, name: 1-80 characters; with CloudWatch "
        "Logs on (the example machine logs) only 0-9, A-Z, a-z, - and _ - "
        "https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html",
    ),
    NameRule(
        "AWS::CloudWatch::Dashboard",
        "DashboardName",
        r"[A-Za-z0-9_-]+",
        255,
        "CloudFormation Template Reference, AWS::CloudWatch::Dashboard, DashboardName (dashboards are "
        "global to the account, so the name also carries the region) - "
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-dashboard.html",
    ),
    NameRule(
        "AWS::XRay::ResourcePolicy",
        "PolicyName",
        r"[\w+=,.@-]+",
        128,
        "X-Ray API Reference, PutResourcePolicy, PolicyName - "
        "https://docs.aws.amazon.com/xray/latest/api/API_PutResourcePolicy.html",
    ),
    NameRule(
        "AWS::Logs::DeliverySource",
        "Name",
        r"[\w-]+",
        60,
        "CloudWatch Logs API Reference, PutDeliverySource, name - "
        "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutDeliverySource.html",
    ),
    NameRule(
        "AWS::Logs::DeliveryDestination",
        "Name",
        r"[\w-]+",
        60,
        "CloudWatch Logs API Reference, PutDeliveryDestination, name - "
        "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutDeliveryDestination.html",
    ),
    NameRule(
        "AWS::ECR::Repository",
        "RepositoryName",
        r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*",
        256,
        "Amazon ECR API Reference, CreateRepository, repositoryName - "
        "https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html",
    ),
)
IAM_USER_SOURCE: Final = (
    'ElastiCache User Guide, "Authenticating with IAM", Limitations: an IAM-enabled user\'s user '
    "name and user id must be identical - https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html"
)
LOG_GROUP_CALLS: Final = ("Custom::AgentCoreLogGroup", "Custom::AgentCoreLogRetention")
"""Custom resources whose SDK calls name a log group (``parameters.logGroupName``)."""


@dataclass(frozen=True)
class Name:
    """One name a template sets for a resource."""

    where: str
    rule: NameRule
    value: Any
    """The name as written: a string, an intrinsic, or ``None`` when it cannot be read."""
    fixed: bool
    """True when the name is a literal fixed at synth (not built from a reference)."""


def named(stage: StageTemplates) -> Iterator[Name]:
    """Every name a template sets, including log groups named in the SDK calls of custom resources."""
    rules = {rule.kind: rule for rule in NAME_RULES}
    log_group = rules["AWS::Logs::LogGroup"]
    for part, template in stage.items():
        for kind, rule in rules.items():
            for logical_id, props in resources(template, kind):
                if rule.prop in props:
                    value = props[rule.prop]
                    yield Name(f"{part}/{logical_id}", rule, value, isinstance(value, str))
        for kind in LOG_GROUP_CALLS:
            for logical_id, props in resources(template, kind):
                for event in ("Create", "Update", "Delete"):
                    if event not in props:
                        continue
                    call = render(props[event])
                    value = (
                        None if call is None else json.loads(call).get("parameters", {}).get("logGroupName")
                    )
                    yield Name(
                        f"{part}/{logical_id}.{event}", log_group, value, isinstance(props[event], str)
                    )


def names_match_aws_patterns(stage: StageTemplates) -> list[str]:
    """Every name a template sets matches its pattern and length, with references at their longest."""
    findings = []
    for entry in named(stage):
        rule, name = entry.rule, render(entry.value)
        if name is None:
            findings.append(f"{entry.where}: {rule.prop} {entry.value} cannot be checked")
        elif not re.fullmatch(rule.pattern, name) or len(name) > (rule.max_length or len(name)):
            findings.append(
                f"{entry.where}: {rule.prop} {name!r} breaks {rule.pattern} / {rule.max_length} chars"
            )
    for part, template in stage.items():
        for logical_id, user in resources(template, "AWS::ElastiCache::User"):
            if user.get("AuthenticationMode", {}).get("Type") == "iam" and user.get("UserName") != user.get(
                "UserId"
            ):
                findings.append(f"{part}/{logical_id}: IAM user's name {user.get('UserName')} is not its id")
    return findings


# ---- 5. runtime environment ------------------------------------------------------------------

ENVIRONMENT_SOURCE: Final = (
    "CloudFormation Template Reference, AWS::BedrockAgentCore::Runtime, EnvironmentVariables "
    "(at most 50; keys ^[a-zA-Z_][a-zA-Z0-9_]*$; values of at most 2048 characters; the CDK Runtime "
    "L2 documents keys of 1-100 characters) - "
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-bedrockagentcore-runtime.html"
)
MAX_VARIABLES: Final = 50
MAX_KEY_LENGTH: Final = 100
MAX_VALUE_LENGTH: Final = 2048


def _longest(value: Any, template: Template, stage: StageTemplates) -> int:
    """Longest length a variable's value can have once CloudFormation resolves it."""
    located = follow(value, template, stage)
    rendered = render(located.value, fallback="\0" * REFERENCE_BOUND)
    return REFERENCE_BOUND if rendered is None else len(rendered)


def runtime_environment_within_limits(stage: StageTemplates) -> list[str]:
    """At most 50 variables, valid keys, and values no longer than 2048 characters even when resolved."""
    findings = []
    template = stage.get("Runtime", {})
    for runtime_id, runtime in resources(template, RUNTIME):
        variables = runtime.get("EnvironmentVariables", {})
        if len(variables) > MAX_VARIABLES:
            findings.append(f"{runtime_id}: {len(variables)} environment variables (at most {MAX_VARIABLES})")
        for key, value in variables.items():
            if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", key) or len(key) > MAX_KEY_LENGTH:
                findings.append(f"{runtime_id}: environment variable name {key!r} is invalid")
            longest = _longest(value, template, stage)
            if longest > MAX_VALUE_LENGTH:
                findings.append(
                    f"{runtime_id}: {key} may be {longest} characters (at most {MAX_VALUE_LENGTH})"
                )
    return findings


# ---- 6. the execution role's trust policy ----------------------------------------------------

TRUST_SOURCE: Final = (
    'AgentCore Developer Guide, "IAM Permissions for AgentCore Runtime", execution role trust '
    "policy: principal bedrock-agentcore.amazonaws.com, conditions aws:SourceAccount and "
    "aws:SourceArn - https://docs.aws.amazon.com/bedrock-agentcore/latest/devguide/runtime-permissions.html"
)
AGENTCORE_PRINCIPAL: Final = "bedrock-agentcore.amazonaws.com"


def _mentions(value: Any, text: str) -> bool:
    return text in json.dumps(value)


def execution_role_trusts_only_agentcore(stage: StageTemplates) -> list[str]:
    """The runtime's role may be assumed by AgentCore only, for this account's AgentCore resources."""
    findings = []
    template = stage.get("Runtime", {})
    for runtime_id, runtime in resources(template, RUNTIME):
        target = referenced(follow(runtime.get("RoleArn"), template, stage))
        if target is None or target[0] != "AWS::IAM::Role":
            findings.append(f"{runtime_id}: RoleArn {runtime.get('RoleArn')} is no role of this stage")
            continue
        statements = target[1].get("Properties", {}).get("AssumeRolePolicyDocument", {}).get("Statement", [])
        if len(statements) != 1:
            findings.append(f"{runtime_id}: the role's trust policy has {len(statements)} statements")
            continue
        [trust] = statements
        condition = trust.get("Condition", {})
        account = condition.get("StringEquals", {}).get("aws:SourceAccount")
        source_arn = condition.get("ArnLike", {}).get("aws:SourceArn")
        if (
            trust.get("Effect") != "Allow"
            or trust.get("Action") != "sts:AssumeRole"
            or trust.get("Principal") != {"Service": AGENTCORE_PRINCIPAL}
            or account != {"Ref": "AWS::AccountId"}
            or not _mentions(source_arn, ":bedrock-agentcore:")
            or not _mentions(source_arn, "AWS::AccountId")
        ):
            findings.append(f"{runtime_id}: the role trusts {json.dumps(trust)}")
    return findings


# ---- 7. stages side by side ------------------------------------------------------------------

SIDE_BY_SIDE_SOURCE: Final = (
    'CloudFormation User Guide, "Name type": a custom name must be unique in the account and Region, '
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html; "
    '"Get exported outputs from a deployed CloudFormation stack": export names must be unique within '
    "a Region, https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-exports.html"
)


def fixed_names(stage: StageTemplates) -> Iterator[tuple[str, str]]:
    """(where, name) of every name fixed at synth: literal resource names and export names.

    A name built from a reference (a runtime's log group) is as unique as what it references.
    """
    for entry in named(stage):
        if entry.fixed:
            yield entry.where, str(entry.value)
    for part, template in stage.items():
        for output_id, output in template.get("Outputs", {}).items():
            export = output.get("Export", {}).get("Name")
            if export is not None:
                yield f"{part}/{output_id} export", export if isinstance(export, str) else json.dumps(export)


def fixed_names_carry_the_stage(stages: Mapping[str, StageTemplates]) -> list[str]:
    """Every fixed name names its stage, and no two stages fix the same name."""
    findings = []
    owners: dict[str, str] = {}
    for stage_name, stage in stages.items():
        for where, name in fixed_names(stage):
            if stage_name not in name:
                findings.append(f"{stage_name} {where}: {name!r} does not name the stage")
            other = owners.setdefault(name.lower(), stage_name)
            if other != stage_name:
                findings.append(f"{stage_name} {where}: {name!r} is also a name in {other}")
    return findings


# ---- 8. per-template quotas ------------------------------------------------------------------

QUOTA_SOURCE: Final = (
    'CloudFormation User Guide, "Understand CloudFormation quotas" - '
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html"
)
QUOTAS: Final = {"Resources": 500, "Outputs": 200, "Parameters": 200, "Mappings": 200}
MAX_MAPPING_ATTRIBUTES: Final = 200
MAX_NAME_LENGTH: Final = 255
"""Resource, output, parameter and mapping names."""
MAX_TEMPLATE_BYTES: Final = 1_000_000
"""Template body in an S3 object (1 MB; the CDK CLI uploads templates over 50 KB to S3)."""
MAX_DESCRIPTION_BYTES: Final = 1024


def template_within_quotas(stage: StageTemplates) -> list[str]:
    """Counts, name lengths, description and size of each template stay within CloudFormation's quotas."""
    findings = []
    for part, template in stage.items():
        for section, limit in QUOTAS.items():
            entries = template.get(section, {})
            if len(entries) > limit:
                findings.append(f"{part}: {len(entries)} {section} (at most {limit})")
            findings += [
                f"{part}: {section} name {name[:40]}... longer than {MAX_NAME_LENGTH}"
                for name in entries
                if len(name) > MAX_NAME_LENGTH
            ]
        for mapping_id, mapping in template.get("Mappings", {}).items():
            if len(mapping) > MAX_MAPPING_ATTRIBUTES:
                findings.append(f"{part}: mapping {mapping_id} has {len(mapping)} attributes")
        size = len(json.dumps(template, separators=(",", ":")).encode())
        if size > MAX_TEMPLATE_BYTES:
            findings.append(f"{part}: template is {size} bytes (at most {MAX_TEMPLATE_BYTES})")
        description = template.get("Description", "")
        if len(description.encode()) > MAX_DESCRIPTION_BYTES:
            findings.append(f"{part}: description is {len(description.encode())} bytes")
    return findings


# ---- 9. request headers handed to the container ----------------------------------------------

HEADER_ALLOWLIST_SOURCE: Final = (
    'AgentCore Developer Guide, "Pass custom headers to Amazon Bedrock AgentCore Runtime": "To use the '
    "Authorization header, the agent runtime must be configured with customJWTAuthorizer for "
    'OAuth-based inbound access"; "Headers starting with x-amz- are not allowed (reserved for AWS SigV4 '
    'signing)"; "Headers starting with x-amzn- are not allowed, except those prefixed with '
    'X-Amzn-Bedrock-AgentCore-Runtime-Custom-"; "Header names are case-insensitive and duplicates '
    '(case-insensitive comparison) are not allowed"; and a table of restricted headers - '
    "https://docs.aws.amazon.com/bedrock-agentcore/latest/devguide/runtime-header-allowlist.html"
)
CUSTOM_HEADER_PREFIX: Final = "x-amzn-bedrock-agentcore-runtime-custom-"
RESTRICTED_HEADERS: Final = frozenset(
    {
        "proxy-authorization",
        "www-authenticate",
        "accept",
        "accept-charset",
        "accept-encoding",
        "accept-language",
        "content-type",
        "content-length",
        "content-encoding",
        "content-language",
        "content-location",
        "content-range",
        "cache-control",
        "etag",
        "expires",
        "if-match",
        "if-modified-since",
        "if-none-match",
        "if-range",
        "if-unmodified-since",
        "last-modified",
    }
)
"""The restricted headers of that page's table (authentication, content negotiation, caching)."""


def request_headers_allowed(stage: StageTemplates) -> list[str]:
    """Every allowlisted request header is one AgentCore lets through: ``Authorization`` only with a
    JWT authorizer, no reserved prefix or restricted header, no duplicate ignoring case."""
    findings = []
    for part, template in stage.items():
        for logical_id, runtime in resources(template, RUNTIME):
            headers = runtime.get("RequestHeaderConfiguration", {}).get("RequestHeaderAllowlist", [])
            jwt = "CustomJWTAuthorizer" in runtime.get("AuthorizerConfiguration", {})
            seen: set[str] = set()
            for header in headers:
                name = str(header).lower()
                where = f"{part}/{logical_id}: request header {header}"
                if name == "authorization" and not jwt:
                    findings.append(f"{where} needs a CustomJWTAuthorizer")
                if name in seen:
                    findings.append(f"{where} is listed twice (names are case-insensitive)")
                seen.add(name)
                if name.startswith("x-amz-") or (
                    name.startswith("x-amzn-") and not name.startswith(CUSTOM_HEADER_PREFIX)
                ):
                    findings.append(f"{where} has a prefix reserved for AWS")
                if name in RESTRICTED_HEADERS:
                    findings.append(f"{where} is restricted")
    return findings


# ---- 10. X-Ray resource policies of all stages fit one account -------------------------------

XRAY_POLICY_SOURCE: Final = (
    "X-Ray API Reference, PutResourcePolicy: each account can have at most 5 resource policies, of "
    "at most 5 KB each, and each policy name must be unique within the account; by default the "
    "policy is created if it does not exist, or updated - "
    "https://docs.aws.amazon.com/xray/latest/api/API_PutResourcePolicy.html. The quota is shared "
    "with everything else in the account, so every stage deployed to an account and region shares "
    "one policy (the Runtime L2's tracing would create one per Runtime stack)."
)
MAX_XRAY_POLICIES: Final = 1
"""This project's share of the account's 5, in any one region, however many stages it holds."""
MAX_XRAY_POLICY_BYTES: Final = 5 * 1024
XRAY_PUT_TYPE: Final = "Custom::XRayResourcePolicy"
"""An SDK call (AwsCustomResource) that puts a policy by name."""


def xray_policies(stage: StageTemplates, samples: Mapping[str, str]) -> Iterator[tuple[str, str, str | None]]:
    """(where, policy name, document) of every X-Ray resource policy a stage creates or puts,
    references rendered with ``samples`` (in a document, others at their longest)."""
    for part, template in stage.items():
        for logical_id, props in resources(template, "AWS::XRay::ResourcePolicy"):
            name = render(props.get("PolicyName"), "<reference>", samples) or "<unreadable>"
            document = render(props.get("PolicyDocument"), "x" * REFERENCE_BOUND, samples)
            yield f"{part}/{logical_id}", name, document
        for logical_id, props in resources(template, XRAY_PUT_TYPE):
            call = render(props.get("Create"), None, samples)
            parameters = json.loads(call).get("parameters", {}) if call else {}
            yield (
                f"{part}/{logical_id}",
                parameters.get("PolicyName", "<unreadable>"),
                parameters.get("PolicyDocument"),
            )


def xray_policies_fit_one_account(deployments: Mapping[tuple[str, str], StageTemplates]) -> list[str]:
    """Stages deployed side by side in one account, by (stage, region): in each region they hold at
    most :data:`MAX_XRAY_POLICIES` X-Ray resource policies between them, stages sharing a name put
    the same document (else the last deploy cuts the others' traces off), none over 5 KB."""
    findings = []
    by_region: dict[str, dict[str, dict[str | None, str]]] = {}
    for (stage_name, region), stage in deployments.items():
        samples = {**SAMPLES, "AWS::Region": region}
        for where, name, document in xray_policies(stage, samples):
            located = f"{stage_name}@{region} {where}"
            by_region.setdefault(region, {}).setdefault(name, {}).setdefault(document, located)
            if document is None or len(document.encode()) > MAX_XRAY_POLICY_BYTES:
                findings.append(
                    f"{located}: policy document over {MAX_XRAY_POLICY_BYTES} bytes or unreadable"
                )
            if not re.fullmatch(r"[\w+=,.@-]{1,128}", name):
                findings.append(f"{located}: policy name {name!r} breaks [\\w+=,.@-]{{1,128}}")
    for region, names in by_region.items():
        if len(names) > MAX_XRAY_POLICIES:
            findings.append(
                f"{len(names)} X-Ray resource policies in {region} (the project's: {MAX_XRAY_POLICIES})"
            )
        for name, documents in names.items():
            if len(documents) > 1:
                findings.append(
                    f"{region}: {', '.join(documents.values())} put different documents as {name}"
                )
    return findings


# ---- 11. the execution role can pull the image when the runtime is created -------------------

IMAGE_PULL_SOURCE: Final = (
    'AgentCore Developer Guide, "IAM Permissions for AgentCore Runtime", execution role: '
    "ecr:BatchGetImage and ecr:GetDownloadUrlForLayer on the repository, ecr:GetAuthorizationToken, "
    "and the CloudWatch Logs actions for /aws/bedrock-agentcore/runtimes/* - "
    "https://docs.aws.amazon.com/bedrock-agentcore/latest/devguide/runtime-permissions.html. "
    'CreateAgentRuntime validates the image with that role and fails with "Access denied while '
    'validating ECR URI" when the permissions arrive in a separately attached policy (IAM User Guide, '
    '"Troubleshoot IAM", "Changes that I make are not always immediately visible" - '
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html; "
    "reported in awslabs/amazon-bedrock-agentcore-samples issue 154 and aws/aws-cdk issue 35120, "
    "whose fix is the role's inline policies)."
)
IMAGE_PULL_ACTIONS: Final = (
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:GetAuthorizationToken",
    "logs:CreateLogGroup",
    "logs:DescribeLogStreams",
    "logs:DescribeLogGroups",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
)


def _allowed_actions(document: Any) -> set[str]:
    """Actions an Allow statement of a policy document grants."""
    found: set[str] = set()
    for statement in document.get("Statement", []) if isinstance(document, dict) else []:
        if statement.get("Effect") == "Allow":
            actions = statement.get("Action", [])
            found |= set(actions if isinstance(actions, list) else [actions])
    return found


def runtime_role_pulls_the_image_inline(stage: StageTemplates) -> list[str]:
    """The runtime's role holds the image-pull and log permissions in its own ``Policies`` (they
    exist the moment the role does), no separately attached policy grants them, and the runtime is
    created after the role (a direct reference or ``DependsOn``)."""
    findings = []
    template = stage.get("Runtime", {})
    for runtime_id, runtime in resources(template, RUNTIME):
        role_arn = runtime.get("RoleArn")
        target = referenced(Located(template, role_arn))
        if target is None or target[0] != "AWS::IAM::Role":
            findings.append(f"{runtime_id}: RoleArn {role_arn} is no role of this template")
            continue
        role_id = role_arn.get("Ref") or role_arn["Fn::GetAtt"][0]
        inline: set[str] = set()
        for policy in target[1].get("Properties", {}).get("Policies", []):
            inline |= _allowed_actions(policy.get("PolicyDocument"))
        missing = [action for action in IMAGE_PULL_ACTIONS if action not in inline]
        if missing:
            findings.append(f"{runtime_id}: role {role_id} lacks inline {', '.join(missing)}")
        for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"):
            for policy_id, policy in resources(template, kind):
                attached = [*policy.get("Roles", []), policy.get("RoleName")]
                if {"Ref": role_id} not in attached:
                    continue
                late = sorted(_allowed_actions(policy.get("PolicyDocument")) & set(IMAGE_PULL_ACTIONS))
                if late:
                    findings.append(f"{runtime_id}: {policy_id} attaches {', '.join(late)} after the role")
    return findings
