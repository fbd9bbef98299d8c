"""The AWS region: the stack sets AWS_REGION; the agent refuses to start with AWS stores and none.

botocore reads ``AWS_DEFAULT_REGION`` and the config file but not ``AWS_REGION``; every other AWS
SDK (and AgentCore's own environment) uses ``AWS_REGION``, so the agent honours it.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agentcore_async.contract import EnvVar
from tests.agent.aws import create_resources
from tests.agent.helpers import get_task, new_session, start_task
from tests.support.agent_process import FAST_TIMERS, REPO_ROOT, AgentProcess, agent_env
from tests.support.servers import MotoServer

REGION_VARIABLES = (EnvVar.AWS_REGION, EnvVar.AWS_DEFAULT_REGION, "AWS_PROFILE")


def env_without_region(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The agent's environment with no region anywhere (no variables, no config file), plus ``overrides``."""
    env = agent_env(FAST_TIMERS)
    for name in REGION_VARIABLES:
        env.pop(name, None)
    env["AWS_CONFIG_FILE"] = str(tmp_path / "no-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "no-credentials")
    return {**env, **overrides}


@contextmanager
def agent_with(env: dict[str, str], tmp_path: Path) -> Iterator[AgentProcess]:
    agent = AgentProcess(port=int(env["PORT"]), env=env, log_path=tmp_path / "agent.log")
    agent.start()
    try:
        yield agent
    finally:
        agent.stop()


def test_an_aws_store_without_a_region_stops_the_agent_with_one_clear_reason(tmp_path: Path) -> None:
    env = env_without_region(
        tmp_path, **{EnvVar.TABLE_NAME: "tasks", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    )
    result = subprocess.run(
        [sys.executable, "-m", "agent"],
        check=False,
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"no AWS region for the DynamoDB, S3 or cache clients: set {EnvVar.AWS_REGION}" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_local_store_needs_no_region(tmp_path: Path) -> None:
    env = env_without_region(tmp_path, AGENT_SQLITE_PATH=str(tmp_path / "tasks.sqlite3"))
    with agent_with(env, tmp_path) as agent:
        session = new_session()
        task_id = start_task(agent, session, duration=0.1)
        assert get_task(agent, task_id, session, wait=10)["status"] == "COMPLETED"


def test_aws_region_alone_is_the_region_of_the_aws_clients(moto_server: MotoServer, tmp_path: Path) -> None:
    """What the stack sets on the runtime is enough: the agent's DynamoDB and S3 calls succeed."""
    aws = create_resources(moto_server)
    env = env_without_region(tmp_path, **aws.env(), **{EnvVar.AWS_REGION: "us-east-1"})
    with agent_with(env, tmp_path) as agent:
        session = new_session()
        task_id = start_task(agent, session, duration=0.1)
        assert get_task(agent, task_id, session, wait=10)["status"] == "COMPLETED"
    assert aws.item(session, task_id) is not None
