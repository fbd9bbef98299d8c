"""The seed's client loop: sleep a fixed interval, ask once, repeat until the task is done."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from agentcore_async.client.api import AgentClient, WaitTimeout
from agentcore_async.client.models import TaskResult


def poll_fixed_interval(
    client: AgentClient,
    task_id: str,
    interval: float,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
) -> TaskResult:
    """``while True: sleep(interval); get_task_result(...)`` as in the seed, bounded by ``timeout``."""
    deadline = time.monotonic() + timeout
    last: TaskResult | None = None
    while time.monotonic() < deadline:
        sleep(interval)
        last = client.result(task_id)
        if last.status.finished:
            return last
    raise WaitTimeout(task_id, last)


class CountingClient(AgentClient):
    """An :class:`AgentClient` that counts its runtime invocations."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invocations = 0

    def invoke(self, payload: dict[str, Any]) -> Any:
        """Count, then invoke."""
        self.invocations += 1
        return super().invoke(payload)
