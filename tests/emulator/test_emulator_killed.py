"""SIGKILL of the emulator takes its microVMs with it: processes, ports and disks."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import uuid
from pathlib import Path

from tests.emulator.conftest import STANDARD_FLAGS
from tests.emulator.harness import pid_alive, refuses, running_emulator, wait_until

SESSIONS = 3


def test_agents_die_with_a_killed_emulator_and_leave_no_port_or_disk() -> None:
    with running_emulator(*STANDARD_FLAGS, "--quiet-agent", shared_store=False) as emulator:
        client = emulator.boto()
        for _ in range(SESSIONS):
            answer = client.invoke_agent_runtime(
                agentRuntimeArn=emulator.arn,
                runtimeSessionId=f"killed-emulator-{uuid.uuid4().hex}",
                payload=b'{"action": "list_tasks"}',
            )
            assert json.loads(answer["response"].read())["tasks"] == []
        rows = [row for row in emulator.table()["sessions"] if row["state"] == "running"]
        assert len(rows) == SESSIONS
        assert all(Path(row["disk"]).is_dir() for row in rows)  # each holds its SQLite store

        try:
            emulator.process.send_signal(signal.SIGKILL)
            emulator.process.wait(timeout=10)

            def all_gone() -> bool | None:
                for row in rows:
                    if pid_alive(row["pid"]) or not refuses(row["port"]) or Path(row["disk"]).exists():
                        return None
                return True

            wait_until(all_gone, 10, "every agent of the killed emulator to die, its port and disk gone")
        finally:  # the old behaviour would leave them running: do not leak them from the test
            for row in rows:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(row["pid"], signal.SIGKILL)
                shutil.rmtree(row["disk"], ignore_errors=True)
