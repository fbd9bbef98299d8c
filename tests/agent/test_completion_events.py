"""Completion events and Step Functions callbacks, through moto in server mode.

A rule on the agent's bus delivers its events to an SQS queue that the tests read. Task tokens
come from a real (moto-executed) state machine whose ``sqs:sendMessage.waitForTaskToken`` state
hands its token over a queue, so the agent completes the execution itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from agent.store.redis_store import RedisStore
from agentcore_async.contract import EVENT_DETAIL_TYPE, EVENT_SOURCE
from nemesis.proxy import proxied
from tests.agent.aws import AwsResources, create_resources
from tests.agent.helpers import eventually, get_task, new_session
from tests.support.agent_process import FAST_TIMERS, AgentProcess, running_agent
from tests.support.failing_kind import ERROR_CODE
from tests.support.failing_servers import failing_aws
from tests.support.servers import MotoServer, RedisServer

S3_THRESHOLD = 2_000
EVENT_FIELDS = {
    "event_id",
    "task_id",
    "session_id",
    "kind",
    "status",
    "attempt",
    "retention",
    "created_at",
    "updated_at",
    "elapsed_seconds",
    "error",
    "result",
}


@dataclass(frozen=True)
class EventQueue:
    """A bus whose rule sends the agent's events to an SQS queue."""

    bus: str
    queue_url: str
    sqs: Any

    def receive(self, seen: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every event received so far (appended to ``seen``)."""
        answer = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in answer.get("Messages", []):
            seen.append(json.loads(message["Body"]))
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return seen


@pytest.fixture(scope="module")
def aws(moto_server: MotoServer) -> AwsResources:
    return create_resources(moto_server)


@pytest.fixture(scope="module")
def events(moto_server: MotoServer) -> EventQueue:
    suffix = uuid.uuid4().hex[:12]
    client = boto3.client("events", endpoint_url=moto_server.url)
    sqs = boto3.client("sqs", endpoint_url=moto_server.url)
    bus = f"tasks-{suffix}"
    client.create_event_bus(Name=bus)
    queue_url = sqs.create_queue(QueueName=f"task-events-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    pattern = {"source": [EVENT_SOURCE], "detail-type": [EVENT_DETAIL_TYPE]}
    client.put_rule(Name=f"to-queue-{suffix}", EventBusName=bus, EventPattern=json.dumps(pattern))
    client.put_targets(Rule=f"to-queue-{suffix}", EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])
    return EventQueue(bus=bus, queue_url=queue_url, sqs=sqs)


@pytest.fixture(scope="module")
def agent(aws: AwsResources, events: EventQueue) -> Iterator[AgentProcess]:
    env = {
        **FAST_TIMERS,
        **aws.env(),
        "AGENT_EVENT_BUS_NAME": events.bus,
        "AGENT_S3_THRESHOLD_BYTES": str(S3_THRESHOLD),
        "AGENT_EXTRA_KINDS": "tests.support.once_kind,tests.support.failing_kind",
    }
    with running_agent(env) as process:
        yield process


def _start(agent: AgentProcess, session: str, payload: dict[str, Any]) -> str:
    status, body = agent.invoke(payload, session)
    assert (status, body.get("status")) == (200, "RUNNING"), body
    return str(body["task_id"])


def _events_of(events: EventQueue, task_ids: set[str], sentinel: str) -> dict[str, list[dict[str, Any]]]:
    """Every event of ``task_ids`` received until the ``sentinel`` task's event arrived (it is
    started after the others finished, so a late duplicate of theirs would arrive before it)."""
    seen: list[dict[str, Any]] = []

    def sentinel_arrived() -> bool:
        return any(e["detail"]["task_id"] == sentinel for e in events.receive(seen))

    eventually(sentinel_arrived, timeout=30, what="the sentinel task's event")
    return {task_id: [e for e in seen if e["detail"]["task_id"] == task_id] for task_id in task_ids}


def test_completed_failed_and_cancelled_tasks_each_put_exactly_one_event(
    agent: AgentProcess, events: EventQueue, aws: AwsResources
) -> None:
    session = new_session()
    completed = _start(agent, session, {"action": "start_background_task", "duration": 0.2})
    large = _start(
        agent, session, {"action": "start_background_task", "duration": 0.2, "result_bytes": S3_THRESHOLD * 2}
    )
    failed = _start(agent, session, {"action": "start_task", "kind": "fails", "input": {"reason": "no"}})
    cancelled = _start(agent, session, {"action": "start_background_task", "duration": 60})
    status, body = agent.invoke({"action": "cancel_task", "task_id": cancelled}, session)
    assert (status, body["status"]) == (200, "CANCELLED"), body
    for task_id in (completed, large, failed):
        assert get_task(agent, task_id, session, wait=20)["status"] != "RUNNING"
    sentinel = _start(agent, session, {"action": "start_background_task", "duration": 0.1})

    received = _events_of(events, {completed, large, failed, cancelled}, sentinel)

    assert {task_id: len(found) for task_id, found in received.items()} == dict.fromkeys(received, 1)
    by_status = {found[0]["detail"]["status"]: found[0] for found in received.values()}
    assert set(by_status) == {"COMPLETED", "FAILED", "CANCELLED"}
    for task_id, [event] in received.items():
        assert event["source"] == EVENT_SOURCE
        assert event["detail-type"] == EVENT_DETAIL_TYPE
        detail = event["detail"]
        assert set(detail) == EVENT_FIELDS, detail
        assert (detail["task_id"], detail["session_id"], detail["attempt"]) == (task_id, session, 1)
        assert detail["event_id"] == f"{task_id}:1:{detail['status']}"
        assert detail["updated_at"] >= detail["created_at"]
        assert detail["elapsed_seconds"] == pytest.approx(
            detail["updated_at"] - detail["created_at"], abs=0.01
        )
        assert "Task completed" not in json.dumps(event)  # never the result itself

    inline = received[completed][0]["detail"]
    assert inline["kind"] == "sleep"
    assert inline["error"] is None
    assert inline["result"] == {
        "location": "record",
        "format": "text",
        "size_bytes": len("Task completed after 0.2s"),
    }
    in_s3 = received[large][0]["detail"]["result"]
    assert (in_s3["location"], in_s3["bucket"], in_s3["size_bytes"]) == ("s3", aws.bucket, S3_THRESHOLD * 2)
    aws.s3.head_object(Bucket=aws.bucket, Key=in_s3["key"])  # the key names the stored result
    failure = received[failed][0]["detail"]
    assert (failure["kind"], failure["result"]) == ("fails", None)
    assert failure["error"] == {"code": ERROR_CODE, "message": "no"}
    assert received[cancelled][0]["detail"]["error"]["code"] == "Cancelled"


def test_sigterm_announces_suspended_and_lost_tasks(aws: AwsResources, events: EventQueue) -> None:
    env = {
        **FAST_TIMERS,
        **aws.env(),
        "AGENT_EVENT_BUS_NAME": events.bus,
    }
    session = new_session()
    with running_agent(env) as process:
        suspended = _start(process, session, {"action": "start_background_task", "duration": 60})
        lost = _start(process, session, {"action": "start_task", "kind": "once", "input": {"duration": 60}})
        process.stop()  # SIGTERM, as StopRuntimeSession sends it
        with running_agent(env) as after:
            # The session's next invocation resumes the suspended task: cancel it, for a sentinel.
            status, body = after.invoke({"action": "cancel_task", "task_id": suspended}, session)
            assert (status, body["status"]) == (200, "CANCELLED"), body
            sentinel = _start(after, session, {"action": "start_background_task", "duration": 0.1})
            received = _events_of(events, {suspended, lost}, sentinel)
    assert [e["detail"]["status"] for e in received[lost]] == ["LOST"]
    statuses = [(e["detail"]["status"], e["detail"]["attempt"]) for e in received[suspended]]
    assert sorted(statuses) == [("CANCELLED", 2), ("SUSPENDED", 1)]


def test_an_unreachable_bus_changes_no_outcome(aws: AwsResources) -> None:
    env = {**FAST_TIMERS, **aws.env(), "AGENT_EVENT_BUS_NAME": f"missing-{uuid.uuid4().hex[:8]}"}
    session = new_session()
    with running_agent(env) as process:
        task_id = _start(process, session, {"action": "start_background_task", "duration": 0.1})
        done = get_task(process, task_id, session, wait=20)
        assert (done["status"], done["result"]) == ("COMPLETED", "Task completed after 0.1s")
        eventually(
            lambda: [r for r in process.log_records() if r.get("message") == "event not published"],
            what="the failed publication to be logged",
        )


# ---- Step Functions callbacks ----------------------------------------------------------------


@dataclass(frozen=True)
class TokenMachine:
    """A state machine that waits for a task token, handed to the test over an SQS queue."""

    arn: str
    token_queue: str
    sfn: Any
    sqs: Any

    def start(self) -> tuple[str, str]:
        """Start an execution; returns its ARN and the token it waits for."""
        execution = self.sfn.start_execution(stateMachineArn=self.arn, name=uuid.uuid4().hex, input="{}")
        seen: list[str] = []

        def token() -> str | None:
            answer = self.sqs.receive_message(QueueUrl=self.token_queue, WaitTimeSeconds=1)
            for message in answer.get("Messages", []):
                seen.append(json.loads(message["Body"])["token"])
                self.sqs.delete_message(QueueUrl=self.token_queue, ReceiptHandle=message["ReceiptHandle"])
            return seen[0] if seen else None

        return execution["executionArn"], eventually(token, timeout=30, what="the execution's task token")

    def finished(self, execution_arn: str) -> dict[str, Any]:
        """The execution's description once it left RUNNING."""

        def done() -> dict[str, Any] | None:
            described: dict[str, Any] = self.sfn.describe_execution(executionArn=execution_arn)
            return None if described["status"] == "RUNNING" else described

        return eventually(done, timeout=30, what="the execution to finish")


@pytest.fixture(scope="module")
def token_machine(moto_server: MotoServer) -> Iterator[TokenMachine]:
    """moto runs state machines only when told to, and reaches SQS through ``MOTO_PORT``."""
    previous_port = os.environ.get("MOTO_PORT")
    os.environ["MOTO_PORT"] = str(moto_server.port)
    _moto_config(moto_server, execute=True)
    sfn = boto3.client("stepfunctions", endpoint_url=moto_server.url)
    sqs = boto3.client("sqs", endpoint_url=moto_server.url)
    suffix = uuid.uuid4().hex[:12]
    queue = sqs.create_queue(QueueName=f"tokens-{suffix}")["QueueUrl"]
    definition = {
        "StartAt": "StartAgentTask",
        "States": {
            "StartAgentTask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}},
                "End": True,
            }
        },
    }
    machine = sfn.create_state_machine(
        name=f"agent-task-{suffix}",
        roleArn="arn:aws:iam::123456789012:role/agent-task-machine",
        definition=json.dumps(definition),
    )
    try:
        yield TokenMachine(arn=machine["stateMachineArn"], token_queue=queue, sfn=sfn, sqs=sqs)
    finally:
        _moto_config(moto_server, execute=False)
        if previous_port is None:
            os.environ.pop("MOTO_PORT", None)
        else:
            os.environ["MOTO_PORT"] = previous_port


def _moto_config(moto_server: MotoServer, *, execute: bool) -> None:
    body = json.dumps({"stepfunctions": {"execute_state_machine": execute}}).encode()
    request = urllib.request.Request(f"{moto_server.url}/moto-api/config", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


def test_a_completed_task_completes_its_task_token_with_the_result_inline(
    agent: AgentProcess, token_machine: TokenMachine
) -> None:
    execution, token = token_machine.start()
    session = new_session()
    payload = {"action": "start_background_task", "duration": 0.2, "callback": {"task_token": token}}
    task_id = _start(agent, session, payload)

    described = token_machine.finished(execution)

    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert (output["task_id"], output["session_id"], output["status"]) == (task_id, session, "COMPLETED")
    assert output["result"]["value"] == "Task completed after 0.2s"
    assert output["result"]["location"] == "record"


def test_a_failed_task_fails_its_task_token_with_its_error(
    agent: AgentProcess, token_machine: TokenMachine
) -> None:
    execution, token = token_machine.start()
    session = new_session()
    payload = {
        "action": "start_task",
        "kind": "fails",
        "input": {"reason": "the input was rejected by the model"},
        "callback": {"task_token": token},
    }
    _start(agent, session, payload)

    described = token_machine.finished(execution)

    assert described["status"] == "FAILED", described
    # moto 5.2.5 drops SendTaskFailure's ``cause`` (its handler reads only ``error``); the cause
    # the agent sends is checked in tests/unit/test_announce.py.
    assert described["error"] == ERROR_CODE


# ---- durable announcements (the record carries what is still owed) -----------------------------


@dataclass(frozen=True)
class StoreUnderTest:
    """Where the agent keeps its tasks, and how a test reads what a stored record still owes."""

    env: dict[str, str]
    retention: str
    owed: Callable[[str, str], list[str]]
    """(session, task id) → the announcements the stored record still owes."""


@pytest.fixture(params=["sqlite", "dynamodb", "redis"])
def task_store(request: pytest.FixtureRequest, aws: AwsResources, tmp_path: Path) -> Iterator[StoreUnderTest]:
    """DynamoDB + S3 on moto, a SQLite file (events still go to moto), or Redis for ephemeral tasks."""
    if request.param == "sqlite":
        path = tmp_path / "tasks.sqlite3"

        def in_sqlite(_session: str, task_id: str) -> list[str]:
            with contextlib.closing(sqlite3.connect(path)) as db:
                row = db.execute("SELECT record FROM tasks WHERE task_id = ?", (task_id,)).fetchone()
            owed: list[str] = json.loads(row[0]).get("announce_pending") or []
            return owed

        yield StoreUnderTest(
            {"AWS_ENDPOINT_URL": aws.endpoint, "AGENT_SQLITE_PATH": str(path)}, "durable", in_sqlite
        )
        return

    def in_dynamodb(session: str, task_id: str) -> list[str]:
        item = aws.item(session, task_id) or {}
        return [value["S"] for value in item.get("announce_pending", {}).get("L", [])]

    if request.param == "dynamodb":
        yield StoreUnderTest(aws.env(), "durable", in_dynamodb)
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    with contextlib.closing(RedisStore(server.url)) as redis_store:

        def in_redis(session: str, task_id: str) -> list[str]:
            record = redis_store.get(session, task_id)
            assert record is not None
            return list(record.announce_pending)

        yield StoreUnderTest({**aws.env(), "AGENT_REDIS_URL": server.url}, "ephemeral", in_redis)


def _moto_address(aws: AwsResources) -> tuple[str, int]:
    """Where moto listens, for a proxy in front of it."""
    port = urllib.parse.urlsplit(aws.endpoint).port
    assert port is not None
    return ("127.0.0.1", port)


def test_an_event_the_bus_refused_is_put_once_it_heals(
    task_store: StoreUnderTest, aws: AwsResources, events: EventQueue
) -> None:
    session = new_session()
    with proxied(_moto_address(aws)) as bus:
        bus.set_mode("refuse")
        env = {
            **FAST_TIMERS,
            **task_store.env,
            "AGENT_EVENT_BUS_NAME": events.bus,
            "AWS_ENDPOINT_URL_EVENTBRIDGE": bus.url,
        }
        with running_agent(env) as process:
            payload = {"action": "start_background_task", "duration": 0.1, "retention": task_store.retention}
            task_id = _start(process, session, payload)
            assert get_task(process, task_id, session, wait=20)["status"] == "COMPLETED"
            eventually(
                lambda: [r for r in process.log_records() if r.get("message") == "event not published"],
                what="the refused publication to be logged",
            )
            assert task_store.owed(session, task_id) == ["event"]
            bus.set_mode("pass")
            process.invoke({"action": "list_tasks"}, session)  # any invocation of the session
            # Sent (by that invocation or the writer's own retry, whose backoff may still be
            # running) and cleared before the sentinel starts, so the sentinel's event comes last.
            eventually(
                lambda: not task_store.owed(session, task_id),
                what="the record to owe nothing",
            )
            sentinel = _start(process, session, {"action": "start_background_task", "duration": 0.1})
            received = _events_of(events, {task_id}, sentinel)
    [event] = received[task_id]
    assert event["detail"]["status"] == "COMPLETED"
    assert event["detail"]["event_id"] == f"{task_id}:1:COMPLETED"


def test_a_state_written_before_a_kill_is_announced_by_the_next_process(
    task_store: StoreUnderTest, aws: AwsResources, events: EventQueue, token_machine: TokenMachine
) -> None:
    execution, token = token_machine.start()
    session = new_session()
    with proxied(_moto_address(aws)) as endpoints:
        endpoints.set_mode("hang")  # the announcements never return...
        env = {
            **FAST_TIMERS,
            **task_store.env,
            "AGENT_EVENT_BUS_NAME": events.bus,
            "AWS_ENDPOINT_URL_EVENTBRIDGE": endpoints.url,
            "AWS_ENDPOINT_URL_SFN": endpoints.url,
        }
        payload = {
            "action": "start_background_task",
            "duration": 0.1,
            "retention": task_store.retention,
            "callback": {"task_token": token},
        }
        with running_agent(env) as process:
            task_id = _start(process, session, payload)
            assert get_task(process, task_id, session, wait=20)["status"] == "COMPLETED"
            process.kill()  # ...before the microVM ends
        assert sorted(task_store.owed(session, task_id)) == ["callback", "event"]
        endpoints.set_mode("refuse")  # cuts the held calls: what arrives now is the next process's
        endpoints.set_mode("pass")
        with running_agent(env) as after:
            # The session's next invocation, which does not read the task itself.
            sentinel = _start(after, session, {"action": "start_background_task", "duration": 0.1})
            described = token_machine.finished(execution)
            received = _events_of(events, {task_id}, sentinel)
            eventually(
                lambda: not task_store.owed(session, task_id),
                what="the record to owe nothing",
            )
    assert [e["detail"]["event_id"] for e in received[task_id]] == [f"{task_id}:1:COMPLETED"]
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert (output["task_id"], output["event_id"]) == (task_id, f"{task_id}:1:COMPLETED")


def test_a_callback_answered_task_timed_out_counts_as_delivered(
    task_store: StoreUnderTest,
) -> None:
    session = new_session()
    with failing_aws(status=400, code="TaskTimedOut") as step_functions:
        env = {
            **FAST_TIMERS,
            **task_store.env,
            "AWS_ENDPOINT_URL_SFN": f"http://127.0.0.1:{step_functions.port}",
        }
        payload = {
            "action": "start_background_task",
            "duration": 0.1,
            "retention": task_store.retention,
            "callback": {"task_token": "expired"},
        }
        with running_agent(env) as process:
            task_id = _start(process, session, payload)
            assert get_task(process, task_id, session, wait=20)["status"] == "COMPLETED"
            eventually(
                lambda: (
                    step_functions.count("SendTaskSuccess") >= 1 and not task_store.owed(session, task_id)
                ),
                what="the callback to be answered and the record to owe nothing",
            )
            get_task(process, task_id, session)  # a later read finds nothing owed: nothing is sent again
            process.invoke({"action": "list_tasks"}, session)
            assert step_functions.count("SendTaskSuccess") == 1
            failures = [r for r in process.log_records() if r.get("message") == "task token not completed"]
            assert failures == []
