"""The CLI answers every failure with a line and an exit code, never a traceback."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentcore_async.client.cli import main
from agentcore_async.client.exit_codes import ExitCode
from tests.client.fake_runtime import FakeRuntime, running_fake_runtime
from tests.emulator.harness import REPO_ROOT

NO_REGION_ARN = "arn:aws:bedrock-agentcore::123456789012:runtime/async_agent-AbCdEfGh12"
AWS_ARN = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/async_agent-AbCdEfGh12"


@pytest.fixture
def runtime() -> Iterator[FakeRuntime]:
    with running_fake_runtime() as running:
        yield running


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def no_aws_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No region, no credentials, no config files, no instance metadata."""
    for name in (
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AGENTCORE_ENDPOINT_URL",
        "AGENTCORE_RUNTIME_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_state_file_in_a_missing_directory(runtime: FakeRuntime, tmp_path: Path) -> None:
    state = tmp_path / "missing" / "session.json"
    target = ["--endpoint-url", runtime.url, "--runtime-arn", runtime.arn, "--state-file", str(state)]
    code, out, err = run_cli("start", *target, "--duration", "1")
    assert out == ""
    assert code == ExitCode.USAGE
    assert f"the state file {state}: No such file or directory" in err
    assert runtime.calls == []  # nothing started that could not be reached again


def test_state_file_that_is_a_directory(runtime: FakeRuntime, tmp_path: Path) -> None:
    state = tmp_path / "session.json"
    state.mkdir()
    target = ["--endpoint-url", runtime.url, "--runtime-arn", runtime.arn, "--state-file", str(state)]
    for argv in (["start", "--duration", "1"], ["result", str(uuid.uuid4())]):
        code, _, err = run_cli(argv[0], *target, *argv[1:])
        assert code == ExitCode.USAGE
        assert "Is a directory" in err
    assert runtime.calls == []


@pytest.mark.usefixtures("no_aws_config")
def test_arn_without_a_region_and_none_configured() -> None:
    code, _, err = run_cli("list", "--runtime-arn", NO_REGION_ARN, "--session-id", f"cli-{uuid.uuid4().hex}")
    assert code == ExitCode.USAGE
    assert "no AWS region" in err
    assert "--region" in err


@pytest.mark.usefixtures("no_aws_config")
def test_missing_credentials_fail_wait_at_once_instead_of_retrying() -> None:
    began = time.monotonic()
    code, _, err = run_cli(
        "wait",
        str(uuid.uuid4()),
        "--runtime-arn",
        AWS_ARN,
        "--session-id",
        f"cli-{uuid.uuid4().hex}",
        "--timeout",
        "20",
    )
    assert code == ExitCode.FAILED
    assert "NoCredentialsError: Unable to locate credentials" in err
    assert time.monotonic() - began < 10


def test_ctrl_c_during_wait_prints_where_the_task_stands(runtime: FakeRuntime, tmp_path: Path) -> None:
    session_id = f"cli-{uuid.uuid4().hex}"
    code, out, _ = run_cli(
        "start", "--endpoint-url", runtime.url, "--runtime-arn", runtime.arn, "--session-id", session_id,
        "--duration", "60", "--state-file", str(tmp_path / "session.json"),
    )  # fmt: skip
    assert code == ExitCode.OK
    task_id = out.strip()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    argv = ["wait", task_id, "--endpoint-url", runtime.url, "--runtime-arn", runtime.arn]
    argv += ["--session-id", session_id, "--long-poll", "1"]
    with subprocess.Popen(
        [sys.executable, "-m", "agentcore_async.client", *argv],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as waiting:
        try:
            runtime.wait_for_calls(3)  # start, then a first answered poll and the next one
            waiting.send_signal(signal.SIGINT)
            stdout, stderr = waiting.communicate(timeout=30)
        finally:
            waiting.kill()
    assert waiting.returncode == 130, stderr  # as shells report SIGINT
    assert "Traceback" not in stderr
    last = json.loads(stdout)
    assert (last["task_id"], last["status"]) == (task_id, "RUNNING")
    assert f"task {task_id} was last seen RUNNING" in stderr
    assert f"python -m agentcore_async.client wait {task_id}" in stderr
