"""2,000 short tasks over 20 sessions through the emulator: all COMPLETED, none lost or duplicated,
each session sees only its own, and every microVM answers /ping throughout.

Bounded to a couple of minutes on a 2-core machine; bigger figures belong in bench/.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final

import pytest

from tests.emulator.harness import RunningEmulator, running_emulator
from tests.hardening.tasks import new_session

SESSIONS: Final = 20
TASKS_PER_SESSION: Final = 100
PING_EVERY: Final = 0.5
AGENT_ENV: Final = {"AGENT_HEARTBEAT_SECONDS": "1", "AGENT_LEASE_SECONDS": "30", "AGENT_LOG_LEVEL": "WARNING"}


@dataclass
class PingWatch:
    """Pings every live microVM directly, on a thread, and counts answers and failures."""

    emulator: RunningEmulator
    answers: int = 0
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.wait(PING_EVERY):
            for row in self.emulator.table()["sessions"]:
                if row["state"] != "running" or row["port"] is None:
                    continue
                try:
                    with urllib.request.urlopen(
                        f"http://127.0.0.1:{row['port']}/ping", timeout=5
                    ) as response:
                        status = json.loads(response.read())["status"]
                    assert status in ("Healthy", "HealthyBusy"), status
                    self.answers += 1
                except Exception as exc:  # any failure is the finding
                    self.failures.append(f"{row['session_id']}: {type(exc).__name__}")


def _run_session(emulator: RunningEmulator, session: str, seed: int) -> tuple[list[str], dict[str, Any]]:
    client = emulator.boto(read_timeout=60, max_pool_connections=2)
    rng = random.Random(seed)

    def invoke(payload: dict[str, Any]) -> dict[str, Any]:
        response = client.invoke_agent_runtime(
            agentRuntimeArn=emulator.arn, runtimeSessionId=session, payload=json.dumps(payload)
        )
        body: dict[str, Any] = json.loads(response["response"].read())
        return body

    started: list[str] = []
    for n in range(TASKS_PER_SESSION):
        payload = {"action": "start_background_task", "duration": round(rng.uniform(0.05, 0.5), 3)}
        if n % 2:
            payload["client_token"] = f"load-{n}"
        answer = invoke(payload)
        assert answer["status"] == "RUNNING", answer
        if n % 2:  # a retried start under load must find the same task
            assert invoke(payload)["task_id"] == answer["task_id"]
        started.append(answer["task_id"])

    deadline = time.monotonic() + 120
    while True:
        listing = invoke({"action": "list_tasks", "limit": 100})
        statuses = {task["task_id"]: task["status"] for task in listing["tasks"]}
        if all(status == "COMPLETED" for status in statuses.values()) and len(statuses) == len(started):
            break
        assert time.monotonic() < deadline, f"{session}: {sorted(set(statuses.values()))}"
        time.sleep(0.5)
    results = {task_id: invoke({"action": "get_task_result", "task_id": task_id}) for task_id in started}
    return started, {"listing": listing, "results": results}


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_two_thousand_tasks_over_twenty_sessions() -> None:
    flags = (
        "--idle-timeout",
        "300",
        "--max-lifetime",
        "1800",
        "--ping-interval",
        "1",
        "--unhealthy-after",
        "5",
    )
    with running_emulator(*flags, env=AGENT_ENV) as emulator:
        sessions = [new_session() for _ in range(SESSIONS)]
        watch = PingWatch(emulator)
        watcher = threading.Thread(target=watch.run, name="ping-watch", daemon=True)
        watcher.start()
        began = time.monotonic()
        try:
            with ThreadPoolExecutor(max_workers=SESSIONS) as pool:
                outcomes = dict(
                    zip(
                        sessions,
                        pool.map(_run_session, [emulator] * SESSIONS, sessions, range(SESSIONS)),
                        strict=True,
                    )
                )
        finally:
            watch.stop.set()
            watcher.join(timeout=10)
        elapsed = time.monotonic() - began

        all_ids = [task_id for started, _ in outcomes.values() for task_id in started]
        assert len(all_ids) == SESSIONS * TASKS_PER_SESSION
        assert len(set(all_ids)) == len(all_ids), "a task id was handed out twice"
        for session, (started, seen) in outcomes.items():
            listed = [task["task_id"] for task in seen["listing"]["tasks"]]
            assert sorted(listed) == sorted(started), f"{session} sees tasks that are not its own"
            assert seen["listing"]["next_cursor"] is None
            for task_id, view in seen["results"].items():
                assert (view["task_id"], view["status"]) == (task_id, "COMPLETED"), view
                assert view["result"].startswith("Task completed after"), view
        assert not watch.failures, watch.failures[:20]
        assert watch.answers >= SESSIONS, watch.answers
        rows = emulator.table()["sessions"]
        for session in sessions:
            mine = [row for row in rows if row["session_id"] == session]
            assert [row["state"] for row in mine] == ["running"], mine  # one microVM, never replaced
        print(f"\n2,000 tasks over 20 sessions in {elapsed:.1f}s; {watch.answers} pings answered")
