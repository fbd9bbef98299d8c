"""InvokeAgentRuntime and StopRuntimeSession through real boto3 against real agent processes."""

from __future__ import annotations

import json
import os
import signal
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from tests.emulator.harness import RunningEmulator, pid_alive, wait_until

SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"


def invoke(emulator: RunningEmulator, session_id: str, payload: dict[str, Any], **extra: Any) -> Any:
    response = emulator.boto().invoke_agent_runtime(
        agentRuntimeArn=emulator.arn, runtimeSessionId=session_id, payload=json.dumps(payload), **extra
    )
    assert response["runtimeSessionId"] == session_id
    assert response["contentType"].startswith("application/json")
    return json.loads(response["response"].read())


def error_of(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call()
    response: dict[str, Any] = caught.value.response
    return response


def test_start_answers_at_once_in_the_session_microvm(emulator: RunningEmulator, session_id: str) -> None:
    started = invoke(emulator, session_id, {"action": "start_background_task", "duration": 0.3})
    assert started["status"] == "RUNNING"
    done = invoke(
        emulator, session_id, {"action": "get_task_result", "task_id": started["task_id"], "wait_seconds": 10}
    )
    assert done["status"] == "COMPLETED"
    [row] = emulator.rows(session_id)
    assert row["state"] == "running"
    assert row["invocations"] == 2
    assert row["runtime_arn"] == emulator.arn


def test_qualifier_default_is_accepted_and_others_are_not_found(
    emulator: RunningEmulator, session_id: str
) -> None:
    assert invoke(emulator, session_id, {"action": "list_tasks"}, qualifier="DEFAULT")["tasks"] == []
    error = error_of(
        lambda: emulator.boto().invoke_agent_runtime(
            agentRuntimeArn=emulator.arn, qualifier="beta", runtimeSessionId=session_id, payload=b"{}"
        )
    )
    assert error["Error"]["Code"] == "ResourceNotFoundException"


def test_unknown_runtime_arn_is_not_found(emulator: RunningEmulator, session_id: str) -> None:
    other = emulator.arn.replace("local_agent", "someone_else")
    error = error_of(
        lambda: emulator.boto().invoke_agent_runtime(
            agentRuntimeArn=other, runtimeSessionId=session_id, payload=b"{}"
        )
    )
    assert error["Error"]["Code"] == "ResourceNotFoundException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert other in error["Error"]["Message"]


@pytest.mark.parametrize(
    ("session_id", "problem"),
    [("s" * 257, "33-256 characters"), ("bad session id with spaces and more chars", "letters, digits")],
)
def test_invalid_session_ids_are_validation_errors(
    emulator: RunningEmulator, session_id: str, problem: str
) -> None:
    error = error_of(
        lambda: emulator.boto().invoke_agent_runtime(
            agentRuntimeArn=emulator.arn, runtimeSessionId=session_id, payload=b"{}"
        )
    )
    assert error["Error"]["Code"] == "ValidationException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["reason"] == "FieldValidationFailed"
    assert error["fieldList"][0]["name"] == "runtimeSessionId"
    assert problem in error["Error"]["Message"]
    assert not [row for row in emulator.table()["sessions"] if row["session_id"] == session_id]


def test_too_short_session_id_is_refused_by_the_service_too(emulator: RunningEmulator) -> None:
    with pytest.raises(ParamValidationError):  # botocore checks the model's minimum first
        emulator.boto().invoke_agent_runtime(
            agentRuntimeArn=emulator.arn, runtimeSessionId="short", payload=b"{}"
        )
    unchecked = emulator.boto(parameter_validation=False)
    error = error_of(
        lambda: unchecked.invoke_agent_runtime(
            agentRuntimeArn=emulator.arn, runtimeSessionId="short", payload=b"{}"
        )
    )
    assert error["Error"]["Code"] == "ValidationException"
    assert "got 5" in error["Error"]["Message"]


def test_calls_without_session_id_each_get_a_new_microvm(emulator: RunningEmulator) -> None:
    client = emulator.boto()
    seen = []
    for _ in range(2):  # botocore fills in a fresh id each time, as on AWS
        response = client.invoke_agent_runtime(
            agentRuntimeArn=emulator.arn, payload=b'{"action": "list_tasks"}'
        )
        seen.append(response["runtimeSessionId"])
    raw = urllib.request.Request(  # no header at all: the service makes one up
        f"{emulator.url}/runtimes/{urllib.parse.quote(emulator.arn, safe='')}/invocations",
        data=b'{"action": "list_tasks"}',
        method="POST",
        headers={"Content-Type": "application/json"},  # urllib would send a form type the agent refuses
    )
    with urllib.request.urlopen(raw, timeout=30) as response:
        seen.append(response.headers[SESSION_HEADER])
        assert json.loads(response.read())["tasks"] == []
    assert len(set(seen)) == 3
    pids = {emulator.rows(session)[0]["pid"] for session in seen}
    assert len(pids) == 3


def test_stop_runtime_session_terminates_the_microvm(emulator: RunningEmulator, session_id: str) -> None:
    invoke(emulator, session_id, {"action": "list_tasks"})
    [before] = emulator.rows(session_id)
    response = emulator.boto().stop_runtime_session(agentRuntimeArn=emulator.arn, runtimeSessionId=session_id)
    assert response["runtimeSessionId"] == session_id
    [after] = emulator.rows(session_id)
    assert after["end_reason"] == "stopped"  # out of service at once; the process shuts down next
    emulator.row_when(session_id, lambda row: row["state"] == "ended", 10)
    assert not pid_alive(before["pid"])
    assert not Path(before["disk"]).exists()
    again = error_of(
        lambda: emulator.boto().stop_runtime_session(
            agentRuntimeArn=emulator.arn, runtimeSessionId=session_id
        )
    )
    assert again["Error"]["Code"] == "ResourceNotFoundException"
    invoke(emulator, session_id, {"action": "list_tasks"})
    assert [row["microvm"] for row in emulator.rows(session_id)] == [before["microvm"], before["microvm"] + 1]


def test_concurrent_calls_to_one_session_share_one_microvm(
    emulator: RunningEmulator, session_id: str
) -> None:
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: invoke(emulator, session_id, {"action": "list_tasks"}), range(8)))
    assert all(answer["tasks"] == [] for answer in answers)
    [row] = emulator.rows(session_id)
    assert row["invocations"] == 8
    assert row["in_flight"] == 0


def test_concurrent_sessions_get_their_own_microvms(emulator: RunningEmulator) -> None:
    sessions = [f"concurrent-{index}-{'0' * 30}" for index in range(3)]
    with ThreadPoolExecutor(3) as pool:
        started = list(
            pool.map(
                lambda s: invoke(emulator, s, {"action": "start_background_task", "duration": 0.2}), sessions
            )
        )
    pids = {emulator.rows(session)[-1]["pid"] for session in sessions}
    assert len(pids) == 3
    # Each microVM's agent sees only its own session's tasks.
    listed = invoke(emulator, sessions[0], {"action": "list_tasks"})
    assert [task["task_id"] for task in listed["tasks"]] == [started[0]["task_id"]]


def test_unknown_paths_get_a_json_error(emulator: RunningEmulator) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{emulator.url}/nothing-here", timeout=10)
    with caught.value as response:
        assert response.code == 404
        body = json.loads(response.read())
    assert body["error"]["code"] == "UnknownOperationException"


def test_a_crashed_agent_is_replaced_on_the_next_call(emulator: RunningEmulator, session_id: str) -> None:
    invoke(emulator, session_id, {"action": "list_tasks"})
    [first] = emulator.rows(session_id)
    os.kill(first["pid"], signal.SIGKILL)
    ended = emulator.row_when(
        session_id, lambda row: row["microvm"] == first["microvm"] and row["state"] == "ended", 10
    )
    assert ended["end_reason"] == "unhealthy"
    invoke(emulator, session_id, {"action": "list_tasks"})
    assert emulator.rows(session_id)[-1]["microvm"] > first["microvm"]


def test_an_agent_that_stops_answering_pings_is_replaced(emulator: RunningEmulator, session_id: str) -> None:
    invoke(emulator, session_id, {"action": "list_tasks"})
    [frozen] = emulator.rows(session_id)
    os.kill(frozen["pid"], signal.SIGSTOP)  # alive but unresponsive, like a hung microVM
    try:
        ended = wait_until(
            lambda: next((r for r in emulator.rows(session_id) if r["state"] == "ended"), None),
            20,
            "unhealthy end",
        )
    finally:
        if pid_alive(frozen["pid"]):
            os.kill(frozen["pid"], signal.SIGCONT)
    assert ended["end_reason"] == "unhealthy"
    assert not pid_alive(frozen["pid"])
    assert invoke(emulator, session_id, {"action": "list_tasks"})["tasks"] == []
    assert emulator.rows(session_id)[-1]["state"] == "running"


def test_stopping_a_session_while_its_microvm_boots(emulator: RunningEmulator, session_id: str) -> None:
    with ThreadPoolExecutor(1) as pool:
        call = pool.submit(invoke, emulator, session_id, {"action": "list_tasks"})
        emulator.row_when(session_id, lambda row: row["state"] == "starting", 10)
        emulator.boto().stop_runtime_session(agentRuntimeArn=emulator.arn, runtimeSessionId=session_id)
        with pytest.raises(ClientError) as caught:
            call.result(timeout=30)
    assert caught.value.response["Error"]["Code"] == "RuntimeClientError"
    ended = emulator.row_when(session_id, lambda row: row["state"] == "ended", 10)
    assert ended["end_reason"] == "stopped"
    assert ended["pid"] is None or not pid_alive(ended["pid"])
