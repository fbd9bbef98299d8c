"""Least privilege in the templates: no unexplained wildcard; a runtime role scoped to its own data."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from agentcore_async.contract import EVENT_DETAIL_TYPE, EVENT_SOURCE
from tests.hardening.iam import (
    MIN_REASON_CHARS,
    Allowance,
    Statement,
    as_list,
    load_allowlist,
    managed_policy_names,
    stack_part,
    statements,
)
from tests.hardening.templates import STAGES, Template

RUNTIME_PRINCIPAL = "bedrock-agentcore.amazonaws.com"


def test_every_allowance_gives_a_reason() -> None:
    allowlist = load_allowlist()
    entries = [*allowlist.action_wildcards, *allowlist.star_resources]
    assert entries
    for entry in entries:
        assert len(entry.reason) >= MIN_REASON_CHARS, entry
    for name, reason in allowlist.managed_policies.items():
        assert len(reason) >= MIN_REASON_CHARS, name


def test_the_walk_sees_every_stage_and_the_runtime_role(templates: list[Template]) -> None:
    assert {template.stage for template in templates} == set(STAGES)
    walked = list(statements(templates))
    runtime = [s for s in walked if stack_part(s.template) == "Runtime"]
    assert len(runtime) >= 10 * len(STAGES)
    assert any(s.allows and "dynamodb:PutItem" in s.actions for s in runtime)
    # The runtime's tracing delivery: X-Ray's resource policy, put by an SDK call, is walked too.
    xray = [
        s for s in runtime if s.policy.startswith("AgentTracesPolicy") and "CustomResource" not in s.policy
    ]
    assert {tuple(s.actions) for s in xray} == {("xray:PutTraceSegments",)}, xray


def test_no_action_wildcard_or_star_resource_outside_the_allowlist(
    templates: list[Template], variant_templates: list[Template]
) -> None:
    """Every stage, and the Runtime stacks of the feature variants (auth=jwt, endpoint=live, example)."""
    allowlist = load_allowlist()
    used: dict[Allowance, set[str]] = defaultdict(set)
    problems: list[str] = []
    for statement in statements([*templates, *variant_templates]):
        if not statement.allows:
            continue
        for key in ("NotAction", "NotResource", "NotPrincipal"):
            if key in statement.body:
                problems.append(f"{statement.where}: Allow with {key}")
        wildcards = [action for action in statement.actions if "*" in action]
        if wildcards:
            entry = next((e for e in allowlist.action_wildcards if e.covers(statement, wildcards)), None)
            if entry is None:
                problems.append(f"{statement.where}: action wildcard {wildcards}")
            else:
                used[entry].update(wildcards)
        if "*" in statement.resources:
            entry = next(
                (e for e in allowlist.star_resources if e.covers(statement, statement.actions)), None
            )
            if entry is None:
                problems.append(f"{statement.where}: resource '*' for {statement.actions}")
            else:
                used[entry].update(statement.actions)
    assert not problems, "unexplained IAM wildcards:\n" + "\n".join(problems)
    stale = [e for e in (*allowlist.action_wildcards, *allowlist.star_resources) if used[e] != e.actions]
    assert not stale, f"allow-list entries that no longer match anything (remove them): {stale}"


def test_only_allowlisted_aws_managed_policies_are_attached(
    templates: list[Template], variant_templates: list[Template]
) -> None:
    allowlist = load_allowlist()
    attached = list(managed_policy_names([*templates, *variant_templates]))
    unexplained = [(where, name) for where, name in attached if name not in allowlist.managed_policies]
    assert not unexplained
    assert {name for _, name in attached} == set(allowlist.managed_policies), "stale managed_policy entries"


# ---- the runtime role touches only its own stage's table, bucket, cache and log group ------------


def _exports(templates: list[Template]) -> dict[str, tuple[Template, Any]]:
    exports: dict[str, tuple[Template, Any]] = {}
    for template in templates:
        for output in template.body.get("Outputs", {}).values():
            name = output.get("Export", {}).get("Name")
            if isinstance(name, str):
                exports[name] = (template, output["Value"])
    return exports


Target = tuple[str, str, str]
"""(stack name, logical id, CloudFormation type) of a resource a policy or variable refers to."""


def _targets(value: Any, template: Template, exports: dict[str, tuple[Template, Any]]) -> set[Target]:
    """The resources a (possibly imported) value refers to."""
    found: set[Target] = set()
    if isinstance(value, dict):
        if "Fn::ImportValue" in value:
            source, exported = exports[value["Fn::ImportValue"]]
            return _targets(exported, source, exports)
        if "Fn::GetAtt" in value or "Ref" in value:
            name = value["Fn::GetAtt"][0] if "Fn::GetAtt" in value else value["Ref"]
            resource = template.body.get("Resources", {}).get(name)
            if resource is not None:
                found.add((template.stack_name, name, str(resource["Type"])))
            return found
        for inner in value.values():
            found |= _targets(inner, template, exports)
    elif isinstance(value, list):
        for inner in value:
            found |= _targets(inner, template, exports)
    return found


def _runtime_role_statements(stage_templates: list[Template]) -> tuple[Template, list[Statement]]:
    [runtime] = [t for t in stage_templates if stack_part(t) == "Runtime"]
    roles = [
        logical_id
        for logical_id, role in runtime.resources("AWS::IAM::Role")
        if RUNTIME_PRINCIPAL in str(role["Properties"]["AssumeRolePolicyDocument"])
    ]
    assert len(roles) == 1, roles
    [role] = roles
    policies = {
        logical_id
        for logical_id, policy in runtime.resources("AWS::IAM::Policy")
        if {"Ref": role} in as_list(policy["Properties"].get("Roles", []))
    }
    assert "ManagedPolicyArns" not in runtime.body["Resources"][role]["Properties"]
    # The role's inline policy (image pull and logs, in effect at creation) and its attached ones.
    found = [s for s in statements([runtime]) if s.policy in {*policies, role}]
    assert found
    return runtime, found


DATA_SERVICES = {
    "dynamodb": ("AGENT_TABLE_NAME",),
    "s3": ("AGENT_BUCKET_NAME",),
    "elasticache": ("AGENT_REDIS_URL", "AGENT_REDIS_IAM_USER"),
    "events": ("AGENT_EVENT_BUS_NAME",),
}
"""Data services and the runtime variables naming the resources of each the agent may touch."""
ALLOWED_SERVICES = {*DATA_SERVICES, "logs", "ecr", "xray", "cloudwatch", "bedrock", "states"}
UNSCOPABLE_LOG_ACTIONS = {"logs:DescribeLogGroups"}


def test_runtime_role_reaches_only_its_own_stage_data(templates: list[Template]) -> None:
    for stage in STAGES:
        stage_templates = [t for t in templates if t.stage == stage]
        exports = _exports(stage_templates)
        runtime, role_statements = _runtime_role_statements(stage_templates)
        [agent_runtime] = [r for _, r in runtime.resources("AWS::BedrockAgentCore::Runtime")]
        runtime_name = agent_runtime["Properties"]["AgentRuntimeName"]
        variables = agent_runtime["Properties"].get("EnvironmentVariables", {})
        touched: set[str] = set()
        for statement in role_statements:
            assert statement.allows, statement.where
            services = {action.split(":", 1)[0] for action in statement.actions}
            assert services <= ALLOWED_SERVICES, (statement.where, services)
            for service in services & DATA_SERVICES.keys():
                assert services == {service}, f"{statement.where} mixes services"
                own = _targets([variables.get(name) for name in DATA_SERVICES[service]], runtime, exports)
                assert own, (
                    f"{stage}: the runtime has no {DATA_SERVICES[service]} yet the role grants {service}"
                )
                for resource in statement.resources:
                    reached = _targets(resource, runtime, exports)
                    assert reached, (statement.where, resource)
                    assert reached <= own, f"{statement.where} reaches {reached}, not only {own}"
                touched.add(service)
            if services == {"logs"} and not set(statement.actions) <= UNSCOPABLE_LOG_ACTIONS:
                for resource in statement.resources:
                    assert f"/runtimes/{runtime_name}-" in str(resource), (statement.where, resource)
        assert {"dynamodb", "s3", "events"} <= touched, stage
        assert ("elasticache" in touched) == ("AGENT_REDIS_URL" in variables), stage


def test_task_events_go_only_to_the_stage_bus_with_the_agent_s_source(templates: list[Template]) -> None:
    for stage in STAGES:
        _, role_statements = _runtime_role_statements([t for t in templates if t.stage == stage])
        [put] = [s for s in role_statements if "events:PutEvents" in s.actions]
        assert put.actions == ["events:PutEvents"]
        assert put.body["Condition"] == {
            "StringEquals": {"events:source": EVENT_SOURCE, "events:detail-type": EVENT_DETAIL_TYPE}
        }


def test_task_results_are_only_the_two_token_completions(templates: list[Template]) -> None:
    """Every stage's role may complete a caller's task token (SendTaskSuccess/Failure name no
    resource type, so "*"), and nothing else of Step Functions: no heartbeat, no execution control."""
    for stage in STAGES:
        _, role_statements = _runtime_role_statements([t for t in templates if t.stage == stage])
        [grant] = [s for s in role_statements if any(a.startswith("states:") for a in s.actions)]
        assert sorted(grant.actions) == ["states:SendTaskFailure", "states:SendTaskSuccess"], stage
        assert grant.resources == ["*"], stage
