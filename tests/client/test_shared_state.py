"""One state file shared by concurrent commands: one session, every task reachable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from agentcore_async.client.session_ids import new_session_id
from agentcore_async.client.state import SessionState
from tests.emulator.harness import REPO_ROOT, RunningEmulator

ARN = "arn:aws:bedrock-agentcore:eu-west-1:123456789012:runtime/async_agent-AbCdEfGh12"
STARTS = 6


def test_concurrent_starts_share_one_session(emulator: RunningEmulator, tmp_path: Path) -> None:
    state_file = tmp_path / "session.json"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "AGENTCORE_ENDPOINT_URL": emulator.url,
        "AGENTCORE_RUNTIME_ARN": emulator.arn,
        "AGENTCORE_STATE_FILE": str(state_file),
    }

    def client(*args: str) -> subprocess.Popen[str]:
        command = [sys.executable, "-m", "agentcore_async.client", *args]
        return subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    starts = [client("start", "--duration", "0.5") for _ in range(STARTS)]
    outputs = [process.communicate(timeout=120) for process in starts]
    assert [process.returncode for process in starts] == [0] * STARTS, [err for _, err in outputs]
    task_ids = [out.strip() for out, _ in outputs]

    saved = json.loads(state_file.read_text())
    assert all(saved["session_id"] in err for _, err in outputs)  # every start used the saved session
    assert len(emulator.rows(saved["session_id"])) == 1
    polling = emulator.agent_client(saved["session_id"])
    assert [
        polling.result(task_id).task_id for task_id in task_ids
    ] == task_ids  # none lost to another session
    assert sorted(path.name for path in tmp_path.iterdir()) == ["session.json", "session.json.lock"]


def test_concurrent_creators_in_threads_get_the_same_session(tmp_path: Path) -> None:
    state = SessionState(tmp_path / "session.json")
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: state.session_for(ARN), range(32)))
    assert len({session_id for session_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert state.load(ARN) == results[0][0]


def test_fresh_replaces_the_saved_session(tmp_path: Path) -> None:
    state = SessionState(tmp_path / "session.json")
    first, _ = state.session_for(ARN)
    second, created = state.session_for(ARN, fresh=True)
    assert created
    assert second != first
    assert state.load(ARN) == second


def test_saves_leave_no_temporary_files(tmp_path: Path) -> None:
    state = SessionState(tmp_path / "session.json")
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: state.save(ARN, new_session_id()), range(40)))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["session.json", "session.json.lock"]
    assert state.load(ARN) is not None
