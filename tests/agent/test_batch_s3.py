"""``batch`` over objects of the agent's bucket: items given as ``{"s3_key": "inputs/…"}`` are read
from S3 (moto in server mode) and put to the scripted model one at a time, in item order; the result
lists the outputs in item order. An item that cannot be read fails the task with a code of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentcore_async.contract import INPUTS_PREFIX
from tests.agent.aws import AwsResources, create_resources
from tests.agent.helpers import get_task, new_session
from tests.agent.scripted_model import recorded_calls
from tests.support.agent_process import FAST_TIMERS, AgentProcess, running_agent
from tests.support.servers import MotoServer


@pytest.fixture(scope="module")
def aws(moto_server: MotoServer) -> AwsResources:
    return create_resources(moto_server)


@pytest.fixture(scope="module")
def model_calls(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One line per model call (the scripted model writes them), across the module's tasks."""
    return tmp_path_factory.mktemp("model") / "calls.txt"


@pytest.fixture(scope="module")
def agent(aws: AwsResources, model_calls: Path) -> Iterator[AgentProcess]:
    env = {
        **FAST_TIMERS,
        **aws.env(),
        "AGENT_MODEL_FACTORY": "tests.agent.scripted_model:create",
        "SCRIPTED_MODEL_CALLS": str(model_calls),
    }
    with running_agent(env) as process:
        yield process


def _batch(agent: AgentProcess, session: str, items: list[Any]) -> dict[str, Any]:
    payload = {"action": "start_task", "kind": "batch", "input": {"instruction": "upper", "items": items}}
    status, started = agent.invoke(payload, session)
    assert (status, started.get("status")) == (200, "RUNNING"), started
    view = get_task(agent, started["task_id"], session, wait=30)
    assert view["status"] != "RUNNING", view
    return view


def test_items_in_the_bucket_are_read_and_processed_in_item_order(
    agent: AgentProcess, aws: AwsResources, model_calls: Path
) -> None:
    texts = {f"{INPUTS_PREFIX}docs/{name}.txt": f"the {name} document" for name in ("gamma", "alpha", "beta")}
    for key, text in texts.items():
        aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=text.encode())
    keys = list(texts)
    items: list[Any] = [{"s3_key": keys[0]}, "an inline item", {"s3_key": keys[1]}, {"s3_key": keys[2]}]
    expected_inputs = [texts[keys[0]], "an inline item", texts[keys[1]], texts[keys[2]]]
    before = len(recorded_calls(model_calls))

    done = _batch(agent, new_session(), items)

    assert (done["status"], done["message"]) == ("COMPLETED", "4 of 4 items")
    assert done["result"] == [text.upper() for text in expected_inputs]
    # One model call per item, each given the object's text, in item order.
    assert recorded_calls(model_calls)[before:] == [repr(text) for text in expected_inputs]


def test_a_missing_key_fails_the_task_naming_the_item(agent: AgentProcess, aws: AwsResources) -> None:
    present = f"{INPUTS_PREFIX}present.txt"
    aws.s3.put_object(Bucket=aws.bucket, Key=present, Body=b"here")
    missing = f"{INPUTS_PREFIX}nowhere/missing.txt"

    failed = _batch(agent, new_session(), [{"s3_key": present}, {"s3_key": missing}])

    assert failed["status"] == "FAILED"
    assert failed["error"]["code"] == "ItemNotFound"
    assert missing in failed["error"]["message"]
    assert failed["error"]["message"].startswith("items.1:")
    assert failed["progress"] == 0.5  # the first item was done before


def test_an_object_that_is_not_utf8_text_fails_with_bad_item(agent: AgentProcess, aws: AwsResources) -> None:
    key = f"{INPUTS_PREFIX}binary.bin"
    aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=b"\xff\xfe\x00binary")

    failed = _batch(agent, new_session(), [{"s3_key": key}])

    assert (failed["status"], failed["error"]["code"]) == ("FAILED", "BadItem")
    assert key in failed["error"]["message"]


def test_a_key_outside_the_inputs_prefix_is_refused_at_start(agent: AgentProcess) -> None:
    payload = {
        "action": "start_task",
        "kind": "batch",
        "input": {"instruction": "upper", "items": ["fine", {"s3_key": "results/someone-elses"}]},
    }
    status, body = agent.invoke(payload, new_session())
    assert (status, body["error"]["code"]) == (200, "InvalidField")
    assert body["error"]["message"].startswith("input.items.1.s3_key:")
