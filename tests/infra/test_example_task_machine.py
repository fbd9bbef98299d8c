"""The example state machine (``-c example_state_machine=true``), read from its synthesized template:
it starts one task on this stage's runtime and waits for the agent to complete its task token."""

from __future__ import annotations

import json
import re
import types
import uuid
from collections.abc import Iterator
from typing import Any, Final

import aws_cdk as cdk
import botocore.session
import pytest
from aws_cdk import aws_bedrockagentcore as agentcore
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam

from agent.errors import ApiError
from agent.payloads import StartTask, parse_request
from tests.emulator.harness import running_emulator
from tests.infra.synth import Template, VariantSynths, as_list, only, resources

EMULATOR_FLAGS: Final = ("--idle-timeout", "60", "--max-lifetime", "600")

INVOKE_WITH_TOKEN: Final = "arn:${AWS::Partition}:states:::lambda:invoke.waitForTaskToken"
"""The Lambda integration with the callback pattern: Step Functions passes a task token and waits
until ``SendTaskSuccess`` or ``SendTaskFailure`` returns it (Step Functions Developer Guide,
"Service integration patterns",
https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html)."""
SDK_INTEGRATION_SOURCE: Final = (
    'Step Functions Developer Guide, "Learning to use AWS service SDK integrations in Step '
    'Functions": services or SDKs not available include those "not suitable for use in a workflow, '
    'such as SDKs for streaming audio or video" - '
    "https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html. No AWS "
    "page says InvokeAgentRuntime, whose answer is a streaming body, works as one."
)
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


def starter_function(template: Template) -> tuple[str, dict[str, Any]]:
    """Logical id and properties of the function the machine invokes."""
    [(function_id, function)] = [
        (k, v) for k, v in resources(template, "AWS::Lambda::Function").items() if k.startswith("ExampleTask")
    ]
    properties: dict[str, Any] = function["Properties"]
    return function_id, properties


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
    assert "Retry" not in state  # a retried invoke could start a second task
    [(runtime_id, runtime)] = resources(template, "AWS::BedrockAgentCore::Runtime").items()
    assert runtime["Properties"]["AgentRuntimeName"] == f"agentcore_async_{synth.stage}"
    function_id, function = starter_function(template)
    assert state["Arguments"]["FunctionName"] == f"${{{function_id}.Arn}}"
    assert function["Environment"]["Variables"] == {
        "AGENT_RUNTIME_ARN": {"Fn::GetAtt": [runtime_id, "AgentRuntimeArn"]}
    }
    arguments = state["Arguments"]["Payload"]
    assert "$uuid()" in arguments["session_id"]

    payload = evaluate(arguments["payload"], EXECUTION_INPUT, TOKEN)
    request = parse_request(payload)
    assert isinstance(request, StartTask)
    assert request.callback is not None
    assert request.callback.task_token == TOKEN
    assert (request.kind, request.input) == ("sleep", {"duration": 30})


def streaming_sdk_calls(machine: dict[str, Any]) -> list[str]:
    """States that call an operation with a streaming answer through an AWS SDK integration
    (botocore's service models say which answers stream)."""
    found = []
    session = botocore.session.get_session()
    for state_name, state in machine["States"].items():
        match = re.fullmatch(r"arn:.+?:states:::aws-sdk:(\w+):(\w+)(\..+)?", state.get("Resource", ""))
        if not match:
            continue
        service = {"bedrockagentcore": "bedrock-agentcore"}.get(match[1], match[1])
        operation = match[2][0].upper() + match[2][1:]
        if session.get_service_model(service).operation_model(operation).has_streaming_output:
            found.append(f"{state_name}: {match[1]}:{match[2]}")
    return found


def test_no_state_reads_a_streaming_answer_through_an_sdk_integration(
    synthesized_variants: VariantSynths,
) -> None:
    """Source: ``SDK_INTEGRATION_SOURCE``."""
    _, machine = definition(synthesized_variants["example"].template("Runtime"))
    assert streaming_sdk_calls(machine) == []


def test_control_the_sdk_integration_of_invoke_agent_runtime_is_reported() -> None:
    """The state the machine had before, as ``definition`` reads it (the partition a reference)."""
    resource = "arn:${AWS::Partition}:states:::aws-sdk:bedrockagentcore:invokeAgentRuntime.waitForTaskToken"
    listing = "arn:aws:states:::aws-sdk:bedrockagentcore:listSessions"
    machine = {"States": {"Start": {"Resource": resource}, "List": {"Resource": listing}}}
    assert streaming_sdk_calls(machine) == ["Start: bedrockagentcore:invokeAgentRuntime"]


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


def role_of(template: Template, resource: dict[str, Any]) -> str:
    role_id: str = resource["Role" if "Role" in resource else "RoleArn"]["Fn::GetAtt"][0]
    return role_id


def test_only_the_starter_may_invoke_this_runtime_and_only_as_the_l2_grant_allows(
    synthesized_variants: VariantSynths,
) -> None:
    """The starter's role gets ``Runtime.grant_invoke_runtime``; the machine's role may invoke the
    starter only, and nothing of AgentCore."""
    template = synthesized_variants["example"].template("Runtime")
    [runtime_id] = resources(template, "AWS::BedrockAgentCore::Runtime")
    function_id, function = starter_function(template)
    starter_role = role_of(template, function)
    granted = with_runtime_as(agentcore_statements(template, starter_role), runtime_id)
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
    machine_role = role_of(template, only(template, "AWS::StepFunctions::StateMachine")["Properties"])
    assert agentcore_statements(template, machine_role) == []
    invoke = [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": machine_role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(action.startswith("lambda:") for action in as_list(statement["Action"]))
    ]
    arn = {"Fn::GetAtt": [function_id, "Arn"]}
    assert invoke == [
        {
            "Action": "lambda:InvokeFunction",
            "Effect": "Allow",
            "Resource": [arn, {"Fn::Join": ["", [arn, ":*"]]}],
        }
    ]


# ---- the starter's inline code, run against the emulator's runtime ---------------------------


@pytest.fixture(scope="module")
def starter(synthesized_variants: VariantSynths) -> Iterator[tuple[Any, str]]:
    """The inline handler of the synthesized template, loaded as a module pointed at an emulator
    (botocore reads ``AWS_ENDPOINT_URL_BEDROCK_AGENTCORE``), and the emulator's runtime ARN."""
    _, function = starter_function(synthesized_variants["example"].template("Runtime"))
    with running_emulator(*EMULATOR_FLAGS) as emulator, pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE", emulator.url)
        patch.setenv("AGENT_RUNTIME_ARN", emulator.arn)
        module = types.ModuleType("index")
        exec(compile(function["Code"]["ZipFile"], "index.py", "exec"), module.__dict__)
        yield module, emulator.arn


def start_event(kind: str) -> dict[str, Any]:
    payload = {
        "action": "start_task",
        "kind": kind,
        "input": {"duration": 120},
        "callback": {"task_token": TOKEN},
    }
    return {"session_id": f"sfn-{uuid.uuid4()}", "payload": json.dumps(payload)}


def test_the_starter_starts_the_task_and_returns_the_agents_answer(starter: tuple[Any, str]) -> None:
    module, _ = starter
    answer = module.handler(start_event("sleep"), None)
    assert answer["task_id"] and answer["status"] in ("PENDING", "RUNNING")


def test_a_start_the_agent_refuses_fails_the_starter(starter: tuple[Any, str]) -> None:
    """The execution fails at once instead of waiting a day for a callback that never comes."""
    module, _ = starter
    with pytest.raises(module.StartRefused, match="UnknownKind"):
        module.handler(start_event("no_such_kind"), None)
