"""A team's own CDK project, outside this checkout: ``pip install "<checkout>[cdk]"`` into a fresh
venv, an app with the team's own queue stack and a stack holding ``AsyncAgentRuntime`` with
``kinds_dirs=["kinds"]``. Its synth leaves the queue unchecked, puts the kind into the image and
names it on the runtime; the emulator started from that cdk.out runs exactly that image's kind,
across microVMs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest

from agentcore_async.client.models import TaskStatus
from agentcore_async.contract import EnvVar
from tests.agent.test_readme_kind import readme_example
from tests.client.test_install import DISTRIBUTIONS_PROBE, outside, uv
from tests.emulator.harness import REPO_ROOT, running_emulator
from tests.hardening.tasks import new_session

pytestmark = pytest.mark.slow

GENERIC_NAMES: Final = frozenset({"client", "contract", "stacks", "agent", "emulator"})

APP: Final = """
import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs

from agentcore_async.cdk import AsyncAgentRuntime

app = cdk.App()
queues = cdk.Stack(app, "TeamQueues")
sqs.Queue(queues, "Plain")  # no DLQ, no TLS-only policy: cdk-nag would flag it (SQS3, SQS4)
tasks = cdk.Stack(app, "TeamTasks")
AsyncAgentRuntime(tasks, "Tasks", kinds_dirs=["kinds"], lifecycle="development")
app.synth()
"""

PACED_COUNT: Final = '''
"""paced_count: counts words, one document every ``pause`` seconds, checkpointing each."""

import asyncio

from pydantic import BaseModel, ConfigDict

from agentcore_async.kinds import TaskContext, TaskKind


class PacedInput(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    documents: list[str]
    pause: float


async def run(ctx: TaskContext, task_input: PacedInput) -> dict[str, object]:
    counts: list[int] = ctx.resume_state["counts"] if ctx.resume_state else []
    for document in task_input.documents[len(counts):]:
        await asyncio.sleep(task_input.pause)
        counts.append(len(document.split()))
        await ctx.checkpoint({"counts": counts})
    return {"counts": counts, "attempt": ctx.attempt}


KIND = TaskKind(name="paced_count", description="Count words slowly", input_model=PacedInput, run=run,
                resumable=True)
'''


@dataclass(frozen=True)
class UserProject:
    directory: Path
    venv_bin: Path
    synth: subprocess.CompletedProcess[str]

    @property
    def cdk_out(self) -> Path:
        return self.directory / "cdk.out"

    def template(self, stack: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((self.cdk_out / f"{stack}.template.json").read_text())
        return loaded


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UserProject]:
    root = tmp_path_factory.mktemp("user-project")
    venv = root / "venv"
    subprocess.run([uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, timeout=120)
    subprocess.run(
        [uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), f"{REPO_ROOT}[cdk]"],
        check=True,
        timeout=900,
    )
    directory = root / "team-app"
    (directory / "kinds").mkdir(parents=True)
    (directory / "app.py").write_text(APP)
    (directory / "kinds" / "word_count.py").write_text(readme_example())
    (directory / "kinds" / "paced_count.py").write_text(PACED_COUNT)
    env = {**outside(root), "CDK_OUTDIR": str(directory / "cdk.out")}
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "18,20"
    synth = subprocess.run(
        [str(venv / "bin" / "python"), "app.py"],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    yield UserProject(directory=directory, venv_bin=venv / "bin", synth=synth)


def _runtime(template: dict[str, Any]) -> dict[str, Any]:
    [runtime] = [r for r in template["Resources"].values() if r["Type"] == "AWS::BedrockAgentCore::Runtime"]
    return runtime


def test_the_user_app_synthesizes_with_the_runtime_and_leaves_the_queue_unchecked(
    project: UserProject,
) -> None:
    assert project.synth.returncode == 0, project.synth.stdout[-3000:] + project.synth.stderr[-3000:]
    assert "AwsSolutions" not in project.synth.stdout + project.synth.stderr
    queues = project.template("TeamQueues")
    assert [r["Type"] for r in queues["Resources"].values()] == ["AWS::SQS::Queue"]
    assert "cdk_nag" not in json.dumps(queues)  # nothing of ours on the team's own stack
    runtime = _runtime(project.template("TeamTasks"))
    environment = runtime["Properties"]["EnvironmentVariables"]
    assert environment[EnvVar.EXTRA_KINDS] == "kinds.paced_count,kinds.word_count"


def test_the_image_asset_holds_the_users_kind_modules(project: UserProject) -> None:
    assert project.synth.returncode == 0
    uri = json.dumps(_runtime(project.template("TeamTasks"))["Properties"]["AgentRuntimeArtifact"])
    [staged] = [p for p in project.cdk_out.glob("asset.*") if p.name.removeprefix("asset.") in uri]
    assert (staged / "user_kinds" / "kinds" / "word_count.py").read_text() == readme_example()
    assert (staged / "agent" / "Dockerfile").is_file()
    assert {p.name for p in (staged / "agentcore_async").iterdir()} == {"__init__.py", "contract", "kinds"}


def test_pip_installed_none_of_the_generic_top_level_names(project: UserProject, tmp_path: Path) -> None:
    found = subprocess.run(
        [str(project.venv_bin / "python"), "-c", DISTRIBUTIONS_PROBE],
        cwd=tmp_path,
        env=outside(tmp_path),
        capture_output=True,
        text=True,
        check=True,
    )
    top_level = {name for dist in json.loads(found.stdout) for name in dist["top_level"]}
    assert "agentcore_async" in top_level
    assert not top_level & GENERIC_NAMES, top_level & GENERIC_NAMES


def test_the_emulator_from_that_cdk_out_runs_the_images_kind_across_microvms(project: UserProject) -> None:
    assert project.synth.returncode == 0
    # The checkout's own kinds directory does not exist: the kind can come only from the image.
    flags = ("--from-cdk-out", str(project.cdk_out), "--max-lifetime", "4", "--idle-timeout", "4")
    env = {key: value for key, value in os.environ.items() if key != EnvVar.EXTRA_KINDS}
    with running_emulator(*flags, env=env) as emulator:
        client = emulator.agent_client(new_session(), long_poll_seconds=2)
        assert "paced_count" in {kind["name"] for kind in client.kinds()}
        documents = ["one two", "three", "four five six", "seven", "eight nine", "ten"]
        task_id = client.start_task("paced_count", {"documents": documents, "pause": 1.0})
        done = client.wait(task_id, timeout=120)
    assert done.status is TaskStatus.COMPLETED, done
    assert done.result["counts"] == [2, 1, 3, 1, 2, 1]
    assert done.result["attempt"] >= 2  # resumed in a later microVM after the 4 s max lifetime


def test_the_constructs_own_checks_still_run(project: UserProject) -> None:
    """The control: a finding inside the construct's tree stops synth, naming it."""
    app = APP.replace(
        'AsyncAgentRuntime(tasks, "Tasks", kinds_dirs=["kinds"], lifecycle="development")',
        'runtime = AsyncAgentRuntime(tasks, "Tasks", kinds_dirs=["kinds"], lifecycle="development")\n'
        'sqs.Queue(runtime, "Inner")',
    )
    (project.directory / "app_inner.py").write_text(app)
    env = {**outside(project.directory), "CDK_OUTDIR": str(project.directory / "cdk.out.inner")}
    done = subprocess.run(
        [str(project.venv_bin / "python"), "app_inner.py"],
        cwd=project.directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "AwsSolutions-SQS3" in output and "TeamTasks/Tasks/Inner" in output
    assert "TeamQueues/Plain" not in output
