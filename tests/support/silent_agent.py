"""``python -m tests.support.silent_agent``: a deliberately broken build of the agent that never
publishes a task's events (it drops every PutEvents), for showing that the nemesis's checker
catches a broken promise."""

from __future__ import annotations

import sys

from agent.__main__ import main
from agent.announce.eventbridge import EventBridgePublisher
from agent.records import TaskRecord


def _dropped(self: EventBridgePublisher, record: TaskRecord) -> None:
    return None


if __name__ == "__main__":
    EventBridgePublisher.publish = _dropped  # type: ignore[method-assign]
    sys.exit(main())
