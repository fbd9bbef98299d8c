"""An example state machine: starts one agent task and waits for its task token.

The Task state invokes a small Lambda function with ``.waitForTaskToken``, which calls
``InvokeAgentRuntime``: its answer is a streaming body, and Step Functions' AWS SDK integrations
are not for streaming operations (Step Functions Developer Guide, "Learning to use AWS service SDK
integrations in Step Functions"). The agent answers the start at once, keeps the token in the
task's record, and completes it with ``SendTaskSuccess`` or ``SendTaskFailure`` when the task ends,
from whichever microVM finishes it; a start it refuses fails the state at once.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_bedrockagentcore as agentcore
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from agentcore_async.cdk.nag import acknowledge, attribute_ref
from agentcore_async.cdk.task_starter_function import TaskStarterFunction
from agentcore_async.contract import STACK_PREFIX

TASK_TIMEOUT: Final = Duration.days(1)
"""How long an execution waits for its token (a task that outlives it is not waited for)."""
PAYLOAD: Final = (
    "{% $string({'action': 'start_task', 'kind': $states.input.kind, 'input': $states.input.input, "
    "'callback': {'task_token': $states.context.Task.Token}}) %}"
)
"""The start request, with the execution's task token as ``callback.task_token``."""
SESSION_ID: Final = "{% 'sfn-' & $uuid() %}"
"""A fresh runtime session per execution (40 characters; AgentCore needs 33 to 256)."""


def example_task_machine_name(stage: str) -> str:
    """``AgentCoreAsync-<stage>-ExampleTask``: one per stage, like the runtime's own name."""
    return f"{STACK_PREFIX}-{stage}-ExampleTask"


class ExampleTaskMachine(Construct):
    """Input ``{"kind": "sleep", "input": {"duration": 30}}``; output the task's final detail."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        runtime: agentcore.Runtime,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        starter = TaskStarterFunction(
            self, "Starter", runtime=runtime, log_retention=log_retention, removal_policy=removal_policy
        )
        start = tasks.LambdaInvoke.jsonata(
            self,
            "StartAgentTask",
            lambda_function=starter.function,
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            # A retried invoke may have started the task already: a second start would be another task.
            retry_on_service_exceptions=False,
            payload=sfn.TaskInput.from_object({"session_id": SESSION_ID, "payload": PAYLOAD}),
            task_timeout=sfn.Timeout.duration(TASK_TIMEOUT),
            comment="Start an agent task; the agent completes the token when the task ends",
        )
        log_group = logs.LogGroup(self, "Logs", retention=log_retention, removal_policy=removal_policy)
        self.machine = sfn.StateMachine(
            self,
            "Machine",
            state_machine_name=example_task_machine_name(stage),
            definition_body=sfn.DefinitionBody.from_chainable(start),
            query_language=sfn.QueryLanguage.JSONATA,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            tracing_enabled=True,
            removal_policy=removal_policy,
        )
        policy = self.machine.role.node.find_child("DefaultPolicy")
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{attribute_ref(starter.function, 'Arn')}:*]",
            "invoke any version of this machine's own starter function only",
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions' vended log delivery (logs:*LogDelivery, DescribeLogGroups, ...) and X-Ray "
            "tracing accept only '*' as resource",
        )
