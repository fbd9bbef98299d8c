"""The example state machine (``-c example_state_machine=true``), read from its synthesized template:
it starts one task on this stage's runtime and waits for the agent to complete its task token."""

from __future__ import annotations

import json
import re
from typing import Any, Final

import aws_cdk as cdk
import pytest
from aws_cdk import aws_bedrockagentcore as agentcore
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam

from agent.errors import ApiError
from agent.payloads import StartTask, parse_request
from tests.infra.synth import Template, VariantSynths, as_list, only, resources

INVOKE_WITH_TOKEN: Final = (
    "arn:${AWS::Partition}:states:::aws-sdk:bedrockagentcore:invokeAgentRuntime.waitForTaskToken"
)
"""The AWS SDK integration of InvokeAgentRuntime with the callback pattern: Step Functions passes a
task token and waits until ``SendTaskSuccess`` or ``SendTaskFailure`` returns it (Step Functions
Developer Guide, "Service integration patterns",
https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html)."""
TOKEN: Final = "AQCEAAAAKgAAAAMAAAAAAAAAAeExampleTaskToken"
EXECUTION_INPUT: Final = {"kind": "sleep", "input": {"duration": 30}}


def reference(value: Any) -> str:
    """``${Logical.Attribute}`` for a ``Fn::GetAtt``, ``${Name}`` for a ``Ref``."""
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return f"${{{logical_id}.{attribute}}}"
    return f"${{{value['Ref']}}}"


def definition(template: Template) -> tuple[str, dict[str, Any]]:
    """The example machine's name and its definition, with references written as ``${...}``."""
    machine = only(template, "AWS::StepFunctions::StateMachine")["Properties"]
    separator, parts = machine["DefinitionString"]["Fn::Join"]
    text = separator.join(part if isinstance(part, str) else reference(part) for part in parts)
    parsed: dict[str, Any] = json.loads(text)
    return machine["StateMachineName"], parsed


def evaluate(expression: str, execution_input: dict[str, Any], token: str) -> Any:
    """The value of a ``{% $string({...}) %}`` JSONata object built from the execution's input and
    the task token (only the paths the example reads; anything else fails)."""
    match = re.fullmatch(r"\{% \$string\((?P<object>.*)\) %\}", expression, re.DOTALL)
    assert match, f"not a $string() of an object: {expression}"
    body = match["object"]
    for path, value in {
        "$states.input.kind": execution_input["kind"],
        "$states.input.input": execution_input["input"],
        "$states.context.Task.Token": token,
    }.items():
        body = body.replace(path, json.dumps(value).replace('"', "'"))
    assert "$" not in body, f"unexpected JSONata in {expression}"
    return json.loads(body.replace("'", '"'))


def test_the_machine_starts_a_task_on_this_stages_runtime_and_waits_for_its_token(
    synthesized_variants: VariantSynths,
) -> None:
    synth = synthesized_variants["example"]
    template = synth.template("Runtime")
    name, machine = definition(template)
    assert name == f"AgentCoreAsync-{synth.stage}-ExampleTask"
    assert machine["QueryLanguage"] == "JSONata"
    state = machine["States"][machine["StartAt"]]
    assert (state["Type"], state["Resource"], state.get("End")) == ("Task", INVOKE_WITH_TOKEN, True)
    [(runtime_id, runtime)] = resources(template, "AWS::BedrockAgentCore::Runtime").items()
    assert runtime["Properties"]["AgentRuntimeName"] == f"agentcore_async_{synth.stage}"
    arguments = state["Arguments"]
    assert arguments["AgentRuntimeArn"] == f"${{{runtime_id}.AgentRuntimeArn}}"
    assert arguments["ContentType"] == "application/json"
    assert "$uuid()" in arguments["RuntimeSessionId"]

    payload = evaluate(arguments["Payload"], EXECUTION_INPUT, TOKEN)
    request = parse_request(payload)
    assert isinstance(request, StartTask)
    assert request.callback is not None
    assert request.callback.task_token == TOKEN
    assert (request.kind, request.input) == ("sleep", {"duration": 30})


def test_control_a_payload_the_agent_refuses_or_without_the_token_is_caught() -> None:
    misplaced = "{% $string({'action': 'start_task', 'kind': $states.input.kind, 'task_token': 'x'}) %}"
    with pytest.raises(ApiError):
        parse_request(evaluate(misplaced, EXECUTION_INPUT, TOKEN))
    untokened = "{% $string({'action': 'start_task', 'kind': $states.input.kind}) %}"
    request = parse_request(evaluate(untokened, EXECUTION_INPUT, TOKEN))
    assert isinstance(request, StartTask)
    assert request.callback is None
    with pytest.raises(AssertionError, match="unexpected JSONata"):
        evaluate("{% $string({'kind': $states.input.other}) %}", EXECUTION_INPUT, TOKEN)


def agentcore_statements(template: Template, role_id: str) -> list[dict[str, Any]]:
    """The ``bedrock-agentcore:`` statements of the policies attached to one role."""
    return [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(action.startswith("bedrock-agentcore:") for action in as_list(statement["Action"]))
    ]


def with_runtime_as(statements: list[dict[str, Any]], runtime_id: str) -> list[dict[str, Any]]:
    normalised: list[dict[str, Any]] = json.loads(
        json.dumps(statements).replace(f'"{runtime_id}"', '"<runtime>"')
    )
    return normalised


def granted_by_the_runtime_l2() -> list[dict[str, Any]]:
    """What ``Runtime.grant_invoke_runtime`` of the pinned aws-cdk-lib gives a role."""
    stack = cdk.Stack()
    repository = ecr.Repository(stack, "Repository")
    runtime = agentcore.Runtime(
        stack,
        "Runtime",
        runtime_name="agent",
        agent_runtime_artifact=agentcore.AgentRuntimeArtifact.from_ecr_repository(repository, "latest"),
    )
    role = iam.Role(stack, "Caller", assumed_by=iam.ServicePrincipal("states.amazonaws.com"))
    runtime.grant_invoke_runtime(role)
    template: Template = dict(cdk.assertions.Template.from_stack(stack).to_json())
    [role_id] = [k for k in resources(template, "AWS::IAM::Role") if k.startswith("Caller")]
    [runtime_id] = resources(template, "AWS::BedrockAgentCore::Runtime")
    return with_runtime_as(agentcore_statements(template, role_id), runtime_id)


def test_the_machine_may_invoke_this_runtime_only_as_the_l2_grant_allows(
    synthesized_variants: VariantSynths,
) -> None:
    """CallAwsService always writes its own statement from ``iam_action``/``iam_resources`` (the
    latter is required and may not be empty), so the example cannot call
    ``grant_invoke_runtime`` without a duplicate statement; its statement must be the grant's."""
    template = synthesized_variants["example"].template("Runtime")
    machine = only(template, "AWS::StepFunctions::StateMachine")["Properties"]
    role_id = machine["RoleArn"]["Fn::GetAtt"][0]
    [runtime_id] = resources(template, "AWS::BedrockAgentCore::Runtime")
    granted = with_runtime_as(agentcore_statements(template, role_id), runtime_id)
    assert granted == granted_by_the_runtime_l2()
    assert granted == [
        {
            "Action": "bedrock-agentcore:InvokeAgentRuntime",
            "Effect": "Allow",
            "Resource": [
                {"Fn::GetAtt": ["<runtime>", "AgentRuntimeArn"]},
                {"Fn::Join": ["", [{"Fn::GetAtt": ["<runtime>", "AgentRuntimeArn"]}, "/*"]]},
            ],
        }
    ]
