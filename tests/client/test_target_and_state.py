"""Where the runtime ARN and endpoint come from, and the saved session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentcore_async.client.session_ids import check_session_id, new_session_id
from agentcore_async.client.state import SessionState
from agentcore_async.client.target import TargetError, arn_from_outputs, resolve_target

pytestmark = pytest.mark.unit

ARN = "arn:aws:bedrock-agentcore:eu-west-1:123456789012:runtime/async_agent-AbCdEfGh12"
OTHER = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/async_agent-ZyXwVuTs98"


def outputs(path: Path, stacks: dict[str, dict[str, str]]) -> Path:
    path.write_text(json.dumps(stacks))
    return path


def test_flag_wins_over_environment() -> None:
    env = {"AGENTCORE_RUNTIME_ARN": OTHER, "AGENTCORE_ENDPOINT_URL": "http://127.0.0.1:1"}
    target = resolve_target(runtime_arn=ARN, env=env)
    assert target.runtime_arn == ARN
    assert target.endpoint_url == "http://127.0.0.1:1"
    assert target.arn_region == "eu-west-1"
    assert target.qualifier == "DEFAULT"


def test_environment_wins_over_outputs_file(tmp_path: Path) -> None:
    path = outputs(tmp_path / "out.json", {"AgentCoreAsync-dev-Runtime": {"RuntimeArn": ARN}})
    target = resolve_target(outputs_file=path, env={"AGENTCORE_RUNTIME_ARN": OTHER})
    assert target.runtime_arn == OTHER


def test_no_endpoint_means_aws(tmp_path: Path) -> None:
    path = outputs(tmp_path / "out.json", {"AgentCoreAsync-dev-Runtime": {"RuntimeArn": ARN}})
    target = resolve_target(outputs_file=path, env={})
    assert target.runtime_arn == ARN
    assert target.endpoint_url is None


def test_outputs_file_with_several_stages_needs_a_stage(tmp_path: Path) -> None:
    path = outputs(
        tmp_path / "out.json",
        {
            "AgentCoreAsync-dev-Runtime": {"RuntimeArn": ARN},
            "AgentCoreAsync-prod-Runtime": {"RuntimeArn": OTHER},
            "AgentCoreAsync-dev-Storage": {"TableName": "tasks"},
        },
    )
    with pytest.raises(TargetError, match="--stage"):
        arn_from_outputs(path)
    assert arn_from_outputs(path, stage="prod") == OTHER
    with pytest.raises(TargetError, match="AgentCoreAsync-test-Runtime"):
        arn_from_outputs(path, stage="test")


@pytest.mark.parametrize("content", ["not json", "[1, 2]"])
def test_broken_outputs_files_are_named(tmp_path: Path, content: str) -> None:
    path = tmp_path / "out.json"
    path.write_text(content)
    with pytest.raises(TargetError, match=str(path)):
        arn_from_outputs(path)


def test_missing_arn_says_where_to_put_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no cdk-outputs.json here
    with pytest.raises(TargetError, match="--runtime-arn"):
        resolve_target(env={})
    with pytest.raises(TargetError, match="not an AgentCore runtime ARN"):
        resolve_target(runtime_arn="arn:aws:s3:::bucket", env={})


def test_new_session_ids_are_valid_and_unique() -> None:
    ids = {new_session_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(33 <= len(i) <= 256 and check_session_id(i) == i for i in ids)


@pytest.mark.parametrize("bad", ["x" * 32, "y" * 257, "has spaces" * 5])
def test_bad_session_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="session id"):
        check_session_id(bad)


def test_saved_session_is_reused_for_the_same_runtime_only(tmp_path: Path) -> None:
    state = SessionState(tmp_path / "session.json")
    assert state.load(ARN) is None
    session = new_session_id()
    state.save(ARN, session)
    assert state.load(ARN) == session
    assert state.load(OTHER) is None


def test_a_corrupt_state_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "session.json"
    path.write_text("{not json")
    assert SessionState(path).load(ARN) is None
    path.write_text(json.dumps({"runtime_arn": ARN, "session_id": "short"}))
    assert SessionState(path).load(ARN) is None
