"""The stage's EventBridge bus: the agent announces every final (or suspended) task on it."""

from __future__ import annotations

from aws_cdk import aws_events as events
from constructs import Construct

from agentcore_async.contract import STACK_PREFIX


def task_events_bus_name(stage: str) -> str:
    """``AgentCoreAsync-<stage>-TaskEvents``: stages deploy side by side in one account and region."""
    return f"{STACK_PREFIX}-{stage}-TaskEvents"


class TaskEventsBus(Construct):
    """A custom bus of its own, so rules for task events never see the account's other events and
    the runtime role's PutEvents grant names exactly one bus."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: str) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(
            self,
            "Bus",
            event_bus_name=task_events_bus_name(stage),
            description=f"Task state changes of the agentcore-async {stage} agents",
        )
