"""What a running kind's ``ctx`` tells it, seen from a real agent process through the ``probe`` kind
(``tests/agent/probe_kind.py``, loaded with ``AGENT_EXTRA_KINDS``): ``ctx.cancelled`` turns true when
a caller cancels (and stays false when the microVM stops, where ``ctx.stopping`` turns true), and
``ctx.remaining_seconds`` counts down from ``AGENT_MAX_LIFETIME_SECONDS``."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from agent.settings import RUNTIME_MAX_SECONDS
from tests.agent.conftest import StartAgent
from tests.agent.helpers import eventually, get_task, new_session, start_kind
from tests.support.agent_process import AgentProcess

PROBE = {"AGENT_EXTRA_KINDS": "tests.agent.probe_kind"}
LIFETIME = 900.0


def _signals(view: dict[str, Any]) -> dict[str, Any]:
    message = view.get("message")
    assert message, view
    signals: dict[str, Any] = json.loads(message)
    return signals


def _reported(agent: AgentProcess, task_id: str, session: str) -> dict[str, Any]:
    """The probe's first report (progress is seen at once by a poll of the same process)."""
    return eventually(lambda: (view := get_task(agent, task_id, session)).get("message") and _signals(view))


def test_ctx_cancelled_turns_true_on_cancel_task(start_agent: StartAgent) -> None:
    agent = start_agent(**PROBE)
    session = new_session()
    task_id = start_kind(agent, session, "probe", {"seconds": 120})
    before = _reported(agent, task_id, session)
    assert (before["cancelled"], before["stopping"]) == (False, False)

    status, cancelled = agent.invoke({"action": "cancel_task", "task_id": task_id}, session)
    assert (status, cancelled["status"], cancelled["error"]["code"]) == (200, "CANCELLED", "Cancelled")
    seen = _signals(cancelled)
    assert seen == {**seen, "cancelled": True, "stopping": False, "on_the_way_out": True}


def test_ctx_stopping_not_cancelled_on_sigterm(start_agent: StartAgent) -> None:
    agent = start_agent(**PROBE)
    session = new_session()
    task_id = start_kind(agent, session, "probe", {"seconds": 120})
    _reported(agent, task_id, session)
    agent.stop(timeout=15)  # SIGTERM: the probe is not resumable, so it is recorded LOST
    agent.start()
    lost = get_task(agent, task_id, session)
    assert (lost["status"], lost["error"]["code"]) == ("LOST", "TaskLost")
    seen = _signals(lost)
    assert seen == {**seen, "cancelled": False, "stopping": True, "on_the_way_out": True}


@pytest.mark.parametrize("lifetime", [LIFETIME, None], ids=["configured", "unset"])
def test_ctx_remaining_seconds_counts_down_from_the_max_lifetime(
    start_agent: StartAgent, lifetime: float | None
) -> None:
    env = dict(PROBE)
    if lifetime is not None:
        env["AGENT_MAX_LIFETIME_SECONDS"] = str(lifetime)
    expected = lifetime or RUNTIME_MAX_SECONDS  # AgentCore's upper bound when none is configured
    launched = time.monotonic()
    agent = start_agent(**env)
    ready = time.monotonic()  # the agent's lifetime clock started between launched and ready
    session = new_session()
    started = time.monotonic()
    task_id = start_kind(agent, session, "probe", {"seconds": 2})
    first = _reported(agent, task_id, session)
    read = time.monotonic()
    # Reported between started and read, by a clock that began between launched and ready.
    assert expected - (read - launched) <= first["remaining"] <= expected - (started - ready)

    done = get_task(agent, task_id, session, wait=20)
    finished = time.monotonic()
    assert done["status"] == "COMPLETED", done
    last = done["result"]["remaining"]
    assert expected - (finished - launched) <= last <= expected - (started + 2 - ready)
    assert first["remaining"] - last >= 1.99  # it counted down while the probe ran its 2 s
