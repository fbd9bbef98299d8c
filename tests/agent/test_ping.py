"""GET /ping: exact JSON, HealthyBusy while work runs, timestamp changes only with the status."""

from __future__ import annotations

import time

from tests.agent.helpers import eventually, get_task, start_task
from tests.support.agent_process import AgentProcess


def test_ping_json_and_timestamp_rule(agent: AgentProcess) -> None:
    first = agent.ping()
    assert set(first) == {"status", "time_of_last_update"}
    assert first["status"] == "Healthy"
    assert isinstance(first["time_of_last_update"], int)
    time.sleep(1.1)  # a restamping implementation would now report a later second
    assert agent.ping() == first

    before = int(time.time())
    task_id = start_task(agent, duration=4)
    busy = agent.ping()
    assert busy["status"] == "HealthyBusy"
    assert busy["time_of_last_update"] >= before
    assert busy["time_of_last_update"] > first["time_of_last_update"]
    time.sleep(1.1)
    assert agent.ping() == busy  # unchanged while the status stays HealthyBusy

    # A second concurrent task does not change the status, so not the timestamp either.
    second = start_task(agent, duration=0.2)
    assert agent.ping() == busy
    get_task(agent, second, wait=20)
    assert agent.ping() == busy

    assert get_task(agent, task_id, wait=20)["status"] == "COMPLETED"
    idle = eventually(lambda: (p := agent.ping())["status"] == "Healthy" and p)
    assert idle["time_of_last_update"] >= busy["time_of_last_update"]
    time.sleep(1.1)
    assert agent.ping() == idle


def test_cancel_releases_healthy_busy(agent: AgentProcess) -> None:
    task_id = start_task(agent, duration=120)
    assert agent.ping()["status"] == "HealthyBusy"
    agent.invoke({"action": "cancel_task", "task_id": task_id})
    assert agent.ping()["status"] == "Healthy"


def test_many_running_tasks_keep_ping_answering(agent: AgentProcess) -> None:
    ids = [start_task(agent, duration=3) for _ in range(200)]
    samples = [agent.ping(timeout=5)["status"] for _ in range(10)]
    assert set(samples) == {"HealthyBusy"}
    for task_id in ids:
        assert get_task(agent, task_id, wait=30)["status"] == "COMPLETED"
    eventually(lambda: agent.ping()["status"] == "Healthy")


def test_other_routes_and_methods_answer_json_errors(agent: AgentProcess) -> None:
    import json  # noqa: PLC0415
    import urllib.error  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    for method, path, status, code in (
        ("GET", "/nowhere", 404, "NotFound"),
        ("GET", "/invocations", 405, "MethodNotAllowed"),
        ("POST", "/ping", 405, "MethodNotAllowed"),
    ):
        request = urllib.request.Request(
            f"{agent.url}{path}", method=method, data=b"" if method == "POST" else None
        )
        try:
            urllib.request.urlopen(request, timeout=5)
        except urllib.error.HTTPError as error:
            with error:
                assert error.code == status
                assert json.loads(error.read())["error"]["code"] == code
        else:
            raise AssertionError(f"{method} {path} should fail")
