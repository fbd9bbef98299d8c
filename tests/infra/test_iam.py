"""IAM: every statement is scoped to this stack's resources, except the listed service limits."""

from __future__ import annotations

from typing import Any

from agentcore_async.cdk.runtime_role import MODEL_ACTIONS, TABLE_ACTIONS
from agentcore_async.contract import DEFAULT_MODEL_ID
from stacks.stages import STAGES
from tests.infra.synth import AllSynths, Synthesized, as_list, only, resources, statements

# Actions that AWS only authorizes on "*": each with the reason it cannot be narrowed.
WILDCARD_RESOURCE_ALLOWED = {
    "ecr:GetAuthorizationToken": "registry login token is account-wide; no resource-level permission",
    "xray:PutTraceSegments": "X-Ray has no resource-level permissions",
    "xray:PutTelemetryRecords": "X-Ray has no resource-level permissions",
    "xray:GetSamplingRules": "X-Ray has no resource-level permissions",
    "xray:GetSamplingTargets": "X-Ray has no resource-level permissions",
    "cloudwatch:PutMetricData": "no resource-level permissions; cloudwatch:namespace condition",
    "xray:PutResourcePolicy": "X-Ray resource policies have no resource-level permissions",
    "states:SendTaskSuccess": "no resource type (Service Authorization Reference)",
    "states:SendTaskFailure": "no resource type (Service Authorization Reference)",
}
# CDK's provider waiter (a Step Functions state machine) logging to CloudWatch Logs: log
# delivery is configured through vended-log APIs that only accept "*".
WAITER_POLICY = "BuildOnDeployProviderwaiterstatemachineRoleDefaultPolicy"
WAITER_WILDCARD_ALLOWED = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
}


def allowed_on_star(policy: str, action: str) -> bool:
    if action in WILDCARD_RESOURCE_ALLOWED:
        return True
    return policy.startswith(WAITER_POLICY) and action in WAITER_WILDCARD_ALLOWED


def test_star_resources_only_for_actions_that_require_it(synthesized: AllSynths) -> None:
    unexpected = set()
    for synth in synthesized.values():
        for part, template in synth.templates.items():
            for policy, statement in statements(template):
                if "*" in as_list(statement["Resource"]):
                    for action in as_list(statement["Action"]):
                        if not allowed_on_star(policy, action):
                            unexpected.add(f"{part}/{policy}: {action}")
    assert unexpected == set()


def test_no_wildcard_actions_in_our_own_roles(synthesized: AllSynths) -> None:
    synth = synthesized["prod", "long-running"]
    for policy, statement in statements(synth.template("Runtime")):
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"{policy}: {action}"
    image = synth.template("Image")
    (handler_policy,) = [
        policy["Properties"]
        for logical_id, policy in resources(image, "AWS::IAM::Policy").items()
        if logical_id.startswith("BuildOnDeployHandlerRole")
    ]
    codebuild = [
        s for s in handler_policy["PolicyDocument"]["Statement"] if "codebuild:StartBuild" in s["Action"]
    ]
    assert codebuild == [
        {
            "Action": ["codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [next(iter(resources(image, "AWS::CodeBuild::Project"))), "Arn"]},
        }
    ]


def execution_role(synth: Synthesized) -> str:
    """Logical id of the role the runtime runs with."""
    runtime = only(synth.template("Runtime"), "AWS::BedrockAgentCore::Runtime")["Properties"]
    role: str = runtime["RoleArn"]["Fn::GetAtt"][0]
    return role


def runtime_statements(synth: Synthesized) -> dict[str, dict[str, Any]]:
    role = execution_role(synth)
    [role_policy] = [
        policy["Properties"]["PolicyDocument"]
        for policy in resources(synth.template("Runtime"), "AWS::IAM::Policy").values()
        if policy["Properties"]["Roles"] == [{"Ref": role}]
    ]
    return {statement["Sid"]: statement for statement in role_policy["Statement"]}


def test_runtime_role_reaches_only_this_stages_table_and_result_objects(
    synthesized: AllSynths,
) -> None:
    for (stage, _), synth in synthesized.items():
        by_sid = runtime_statements(synth)
        table_arn = {"Fn::ImportValue": f"AgentCoreAsync-{stage}-Storage-TableArn"}
        bucket_arn = {"Fn::ImportValue": f"AgentCoreAsync-{stage}-Storage-BucketArn"}
        assert sorted(by_sid["ResultsTable"]["Action"]) == sorted(TABLE_ACTIONS)
        assert by_sid["ResultsTable"]["Resource"] == [table_arn, {"Fn::Join": ["", [table_arn, "/index/*"]]}]
        assert by_sid["ResultObjects"]["Resource"] == {"Fn::Join": ["", [bucket_arn, "/results/*"]]}
        assert by_sid["ListResults"]["Resource"] == bucket_arn
        assert by_sid["ListResults"]["Condition"] == {"StringLike": {"s3:prefix": ["results/*"]}}
        if STAGES[stage].cache_enabled:
            storage = f"AgentCoreAsync-{stage}-Storage"
            assert by_sid["CacheConnect"]["Action"] == "elasticache:Connect"
            assert by_sid["CacheConnect"]["Resource"] == [
                {"Fn::ImportValue": f"{storage}-CacheArn"},
                {"Fn::ImportValue": f"{storage}-CacheUserArn"},
            ]
        else:
            assert "CacheConnect" not in by_sid


def test_runtime_role_invokes_only_the_configured_model(synthesized: AllSynths) -> None:
    by_sid = runtime_statements(synthesized["dev", "development"])
    profile = by_sid["InvokeInferenceProfile"]
    assert sorted(as_list(profile["Action"])) == sorted(MODEL_ACTIONS)
    profile_arn = profile["Resource"]["Fn::Join"][1]
    assert profile_arn[-1] == f":inference-profile/{DEFAULT_MODEL_ID}"
    via = by_sid["InvokeModelViaProfile"]
    assert (
        via["Resource"]["Fn::Join"][1][-1]
        == f":bedrock:*::foundation-model/{DEFAULT_MODEL_ID.split('.', 1)[1]}"
    )
    assert via["Condition"]["StringLike"]["bedrock:InferenceProfileArn"] == profile["Resource"]
    bedrock = [s for s in by_sid.values() if any(a.startswith("bedrock:") for a in as_list(s["Action"]))]
    assert len(bedrock) == 2


def test_runtime_role_can_only_be_assumed_by_agentcore_in_this_account(
    synthesized: AllSynths,
) -> None:
    synth = synthesized["prod", "long-running"]
    role = synth.template("Runtime")["Resources"][execution_role(synth)]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "bedrock-agentcore.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert "aws:SourceArn" in trust["Condition"]["ArnLike"]
