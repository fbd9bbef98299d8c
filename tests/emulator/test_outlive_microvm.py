"""Tasks longer than a microVM's maximum lifetime complete across several microVMs of one session.

The emulator ends each microVM at its max lifetime (SIGTERM, as AgentCore does); the agent suspends
its resumable work with a checkpoint, and the client's next poll starts the session's next microVM,
which resumes it. ``wait()`` drives the task to completion across all of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest

from agentcore_async.client.models import TaskStatus
from tests.emulator.harness import running_emulator
from tests.hardening.tasks import new_session

LIFETIME: Final = ("--idle-timeout", "8", "--max-lifetime", "8", "--ping-interval", "0.5")
ITEMS: Final = [f"line {n:02d}" for n in range(12)]


def _ended_by_max_lifetime(rows: list[dict[str, object]]) -> int:
    return sum(1 for row in rows if row["end_reason"] == "max_lifetime")


@pytest.mark.slow
def test_a_sleep_three_lifetimes_long_completes_across_microvms() -> None:
    with running_emulator(*LIFETIME) as emulator:
        session = new_session()
        client = emulator.agent_client(session, long_poll_seconds=5)
        task_id = client.start(20)
        done = client.wait(task_id, timeout=120)
        assert (done.status, done.result) == (TaskStatus.COMPLETED, "Task completed after 20s")
        rows = emulator.rows(session)
        assert len(rows) >= 3, rows
        assert _ended_by_max_lifetime(rows) >= 2, rows
        assert done.attempt is not None and done.attempt >= 3


@pytest.mark.slow
def test_a_batch_longer_than_a_microvm_processes_every_item_once_and_in_order(tmp_path: Path) -> None:
    calls = tmp_path / "model-calls.txt"
    env = {
        "AGENT_MODEL_FACTORY": "tests.agent.scripted_model:create",
        "SCRIPTED_MODEL_SECONDS": "1.5",
        "SCRIPTED_MODEL_CALLS": str(calls),
    }
    with running_emulator(*LIFETIME, env=env) as emulator:
        session = new_session()
        client = emulator.agent_client(session, long_poll_seconds=5)
        task_id = client.start_task("batch", {"instruction": "upper", "items": ITEMS})
        done = client.wait(task_id, timeout=180)
        rows = emulator.rows(session)
    assert done.status is TaskStatus.COMPLETED, done
    assert done.result == [item.upper() for item in ITEMS]
    assert _ended_by_max_lifetime(rows) >= 2, rows
    made = len(calls.read_text().splitlines())
    # Only the item in flight when a microVM ended may be processed a second time.
    assert len(ITEMS) <= made <= len(ITEMS) + len(rows) - 1, f"{made} model calls over {len(rows)} microVMs"
