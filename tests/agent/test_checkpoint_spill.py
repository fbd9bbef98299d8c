"""A checkpoint over ``AGENT_S3_THRESHOLD_BYTES`` spills to S3 like a large result: the record
carries its ``checkpoint_key`` under the results prefix instead of the checkpoint, and a new agent
process resumes from that object after a kill -9 (batch) or a SIGTERM (agent_run) with the right
state, repeating no finished item or model turn, also when S3 is unreachable for a while as it
resumes. Records in DynamoDB (or the SQLite file where a test says so); DynamoDB and S3 are moto in
server mode."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any, Final

import pytest

from agentcore_async.contract import RESULTS_PREFIX
from tests.agent.aws import AwsResources, Records, create_resources
from tests.agent.conftest import StartAgent
from tests.agent.helpers import eventually, get_task, new_session, start_kind
from tests.agent.scripted_model import recorded_calls
from tests.support.agent_process import AgentProcess
from tests.support.reply_dropper import reply_dropper
from tests.support.servers import MotoServer

THRESHOLD: Final = 200
"""Small enough that a checkpoint of two batch outputs, or of a few agent turns, spills."""
ITEMS: Final = [f"item {n} " + "x" * 120 for n in range(6)]
STEPS: Final = 6
BOTH: Final = pytest.mark.parametrize("records", ["dynamodb", "sqlite"], indirect=True)


@pytest.fixture
def aws(moto_server: MotoServer) -> AwsResources:
    return create_resources(moto_server)


@pytest.fixture
def records(request: pytest.FixtureRequest, aws: AwsResources, tmp_path: Path) -> Records:
    return Records(getattr(request, "param", "dynamodb"), aws, tmp_path / "tasks.sqlite3")


@pytest.fixture
def model_calls(tmp_path: Path) -> Path:
    return tmp_path / "model-calls.txt"


@pytest.fixture
def env(records: Records, model_calls: Path) -> dict[str, str]:
    return {
        **records.env(),
        "AGENT_S3_THRESHOLD_BYTES": str(THRESHOLD),
        "AGENT_MODEL_FACTORY": "tests.agent.scripted_model:create",
        "SCRIPTED_MODEL_CALLS": str(model_calls),
        "SCRIPTED_MODEL_SECONDS": "0.3",
    }


def _spilled(records: Records, session: str, task_id: str) -> Any:
    """The stored checkpoint, asserting it lives in S3 under the results prefix, not in the record."""
    record = records.get(session, task_id)
    assert record is not None
    assert record.checkpoint is None, "a checkpoint over the threshold stayed inline"
    key = record.checkpoint_key
    assert key is not None
    assert key.startswith(RESULTS_PREFIX), key
    assert task_id in key
    return json.loads(records.aws.s3.get_object(Bucket=records.aws.bucket, Key=key)["Body"].read())


def _has_spilled(records: Records, session: str, task_id: str, steps: float) -> bool:
    record = records.get(session, task_id)
    return record is not None and record.checkpoint_key is not None and record.progress >= steps


def _finished(agent: AgentProcess, session: str, task_id: str) -> dict[str, Any]:
    def final() -> dict[str, Any] | None:
        view = get_task(agent, task_id, session, wait=10)
        return None if view["status"] in ("RUNNING", "SUSPENDED") else view

    return eventually(final, timeout=60, what="the resumed task to finish")


def test_a_killed_batch_resumes_from_its_checkpoint_in_s3(
    start_agent: StartAgent, env: dict[str, str], records: Records, model_calls: Path
) -> None:
    agent = start_agent(**env)
    session = new_session()
    task_id = start_kind(agent, session, "batch", {"instruction": "upper", "items": ITEMS})
    eventually(partial(_has_spilled, records, session, task_id, 2 / len(ITEMS)), timeout=30, what="a spill")
    agent.kill()

    # What the next process finds: the last checkpoint written before the kill, in S3.
    outputs = _spilled(records, session, task_id)["outputs"]
    done_before = len(outputs)
    assert 2 <= done_before < len(ITEMS)
    assert outputs == [item.upper() for item in ITEMS[:done_before]]
    calls_before = len(recorded_calls(model_calls))

    agent.restart()
    done = _finished(agent, session, task_id)

    assert (done["status"], done["attempt"]) == ("COMPLETED", 2), done
    assert done["result"] == [item.upper() for item in ITEMS]
    # The new process put only the items after the checkpoint to the model, in order.
    assert recorded_calls(model_calls)[calls_before:] == [repr(item[:80]) for item in ITEMS[done_before:]]


@BOTH
def test_a_resume_holds_through_an_s3_outage_and_continues_from_its_checkpoint(
    start_agent: StartAgent,
    env: dict[str, str],
    records: Records,
    model_calls: Path,
    moto_server: MotoServer,
) -> None:
    with reply_dropper(moto_server.port) as s3:
        # S3 through a proxy that can refuse everything; one try per call, so the agent's own
        # holding (not the driver's retries) is what rides the outage out.
        agent = start_agent(
            **env, AWS_ENDPOINT_URL_S3=f"http://127.0.0.1:{s3.port}", AGENT_WRITE_ATTEMPTS="1"
        )
        session = new_session()
        task_id = start_kind(agent, session, "batch", {"instruction": "upper", "items": ITEMS})
        spilled = partial(_has_spilled, records, session, task_id, 2 / len(ITEMS))
        eventually(spilled, timeout=30, what="a spilled checkpoint")
        agent.kill()
        done_before = len(_spilled(records, session, task_id)["outputs"])
        calls_before = len(recorded_calls(model_calls))

        s3.refuse_every(b"HTTP/1.1")
        agent.restart()

        def refused_again_and_again() -> bool:  # or the resume already gave up
            view = get_task(agent, task_id, session)  # the first read resumes it here
            return s3.refused >= 3 or view["status"] not in ("RUNNING", "SUSPENDED")

        eventually(refused_again_and_again, timeout=30, what="the checkpoint read to meet the outage")
        s3.stop_refusing()
        done = _finished(agent, session, task_id)

    assert (done["status"], done["attempt"], done.get("error")) == ("COMPLETED", 2, None), done
    assert done["result"] == [item.upper() for item in ITEMS]
    assert recorded_calls(model_calls)[calls_before:] == [repr(item[:80]) for item in ITEMS[done_before:]]


@BOTH
def test_a_resume_whose_checkpoint_object_is_gone_fails_with_checkpoint_expired(
    start_agent: StartAgent, env: dict[str, str], records: Records
) -> None:
    agent = start_agent(**env)
    session = new_session()
    task_id = start_kind(agent, session, "batch", {"instruction": "upper", "items": ITEMS})
    eventually(partial(_has_spilled, records, session, task_id, 2 / len(ITEMS)), timeout=30, what="a spill")
    agent.kill()
    record = records.get(session, task_id)
    assert record is not None
    records.aws.s3.delete_object(Bucket=records.aws.bucket, Key=record.checkpoint_key)

    agent.restart()
    done = _finished(agent, session, task_id)
    outcome = (done["status"], done["attempt"], done["error"]["code"])
    assert outcome == ("FAILED", 2, "CheckpointExpired"), done


def test_a_stopped_agent_run_resumes_its_conversation_from_s3(
    start_agent: StartAgent, env: dict[str, str], records: Records, model_calls: Path
) -> None:
    # A long lease: SUSPENDED must be recorded on the way out, not derived from a stale heartbeat.
    agent = start_agent(**env, AGENT_LEASE_SECONDS="30")
    session = new_session()
    instructions = f"take {STEPS} steps of 0.1 seconds"
    task_id = start_kind(agent, session, "agent_run", {"instructions": instructions, "max_steps": 20})
    eventually(partial(_has_spilled, records, session, task_id, 2 / 20), timeout=30, what="a spill")
    agent.stop(timeout=15)  # SIGTERM

    record = records.get(session, task_id)
    assert record is not None
    assert (record.status.value, record.attempt) == ("SUSPENDED", 1)
    messages = _spilled(records, session, task_id)["messages"]
    turns_before = sum(1 for message in messages if message["role"] == "assistant")
    assert 2 <= turns_before < STEPS
    assert messages[0]["content"][0]["text"] == instructions
    calls_before = len(recorded_calls(model_calls))

    agent.start()
    done = _finished(agent, session, task_id)

    assert (done["status"], done["attempt"]) == ("COMPLETED", 2), done
    # The resumed conversation counts the turns of the first process as its own.
    assert done["result"] == f"done after {STEPS} steps"
    # No finished turn was asked again: the rest of the tool calls, then the answer.
    assert len(recorded_calls(model_calls)) - calls_before == STEPS + 1 - turns_before


def test_without_a_bucket_a_large_checkpoint_stays_in_sqlite(start_agent: StartAgent) -> None:
    agent = start_agent(
        AGENT_S3_THRESHOLD_BYTES=str(THRESHOLD), AGENT_MODEL_FACTORY="tests.agent.scripted_model:create"
    )
    session = new_session()
    task_id = start_kind(agent, session, "batch", {"instruction": "upper", "items": ITEMS})
    done = _finished(agent, session, task_id)
    assert (done["status"], done.get("error")) == ("COMPLETED", None)
    assert done["result"] == [item.upper() for item in ITEMS]
