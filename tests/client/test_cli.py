"""``python -m agentcore_async.client`` against the emulator: output, saved sessions and exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from agentcore_async.client.cli import main
from agentcore_async.client.exit_codes import ExitCode
from tests.emulator.harness import REPO_ROOT, RunningEmulator


class Cli:
    """Runs the CLI in-process with the emulator's endpoint and a private state file."""

    def __init__(self, emulator: RunningEmulator, state_file: Path) -> None:
        self.url = emulator.url
        self.base = [
            "--endpoint-url",
            emulator.url,
            "--runtime-arn",
            emulator.arn,
            "--state-file",
            str(state_file),
        ]
        self.state_file = state_file

    def __call__(self, command: str, *args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        base = ["--endpoint-url", self.url] if command == "sessions" else self.base  # emulator only
        code = main([command, *base, *args], out=out, err=err)
        return code, out.getvalue(), err.getvalue()


@pytest.fixture
def cli(emulator: RunningEmulator, tmp_path: Path) -> Cli:
    return Cli(emulator, tmp_path / "session.json")


def test_start_wait_result_in_one_saved_session(cli: Cli, emulator: RunningEmulator) -> None:
    code, out, err = cli("start", "--duration", "1")
    assert code == ExitCode.OK, err
    task_id = out.strip()
    assert str(uuid.UUID(task_id)) == task_id
    saved = json.loads(cli.state_file.read_text())
    assert saved["runtime_arn"] == emulator.arn
    assert saved["session_id"] in err

    code, out, _ = cli("wait", task_id, "--timeout", "30", "--long-poll", "5")
    assert code == ExitCode.OK
    assert json.loads(out)["status"] == "COMPLETED"

    code, out, _ = cli("result", task_id)
    assert code == ExitCode.OK
    assert json.loads(out)["result"] == "Task completed after 1s"

    code, out, _ = cli("list")
    assert code == ExitCode.OK
    assert [task["task_id"] for task in json.loads(out)["tasks"]] == [task_id]
    assert len(emulator.rows(saved["session_id"])) == 1  # every command reached the same microVM


def test_wait_timeout_exits_3(cli: Cli) -> None:
    _, out, _ = cli("start", "--duration", "30")
    task_id = out.strip()
    code, out, err = cli("wait", task_id, "--timeout", "1", "--long-poll", "1")
    assert code == ExitCode.TIMEOUT
    assert "timed out" in err
    assert json.loads(out)["status"] == "RUNNING"
    cli("cancel", task_id)


def test_cancelled_task_exits_1(cli: Cli) -> None:
    _, out, _ = cli("start", "--duration", "30")
    task_id = out.strip()
    code, out, _ = cli("cancel", task_id)
    assert code == ExitCode.OK
    code, out, _ = cli("wait", task_id, "--timeout", "20", "--no-progress")
    assert code == ExitCode.FAILED
    assert json.loads(out)["status"] == "CANCELLED"
    code, _, _ = cli("result", task_id)
    assert code == ExitCode.FAILED


def test_unknown_task_exits_1_with_the_reason(cli: Cli) -> None:
    cli("start", "--duration", "0.1")
    code, out, err = cli("result", str(uuid.uuid4()))
    assert code == ExitCode.FAILED
    assert out == ""
    assert "TaskNotFound" in err
    assert "Traceback" not in err


def test_new_session_starts_a_fresh_microvm(cli: Cli, emulator: RunningEmulator) -> None:
    cli("start", "--duration", "0.1")
    first = json.loads(cli.state_file.read_text())["session_id"]
    cli("start", "--duration", "0.1", "--new-session")
    second = json.loads(cli.state_file.read_text())["session_id"]
    assert first != second
    assert emulator.rows(first)[0]["pid"] != emulator.rows(second)[0]["pid"]


def test_sessions_and_stop(cli: Cli) -> None:
    cli("start", "--duration", "0.1")
    session_id = json.loads(cli.state_file.read_text())["session_id"]
    code, out, _ = cli("sessions")
    assert code == ExitCode.OK
    rows = [row for row in json.loads(out)["sessions"] if row["session_id"] == session_id]
    assert rows[0]["state"] == "running"
    code, _, err = cli("stop")
    assert code == ExitCode.OK
    assert "stopped" in err
    _, out, _ = cli("sessions")
    rows = [row for row in json.loads(out)["sessions"] if row["session_id"] == session_id]
    assert rows[0]["end_reason"] == "stopped"


def test_invoke_prompt(cli: Cli) -> None:
    code, out, _ = cli("invoke", "--prompt", "start a 1 second task")
    assert code == ExitCode.OK
    assert "started" in json.loads(out)["response"]


@pytest.mark.parametrize(
    "args",
    [
        ["start"],  # --duration is required
        ["start", "--duration", "-1"],
        ["result", "not-a-task-id"],
        ["wait", str(uuid.uuid4()), "--long-poll", "0"],
        ["result", str(uuid.uuid4()), "--wait-seconds", "61"],
        ["start", "--duration", "1", "--session-id", "too-short"],
        ["frobnicate"],
    ],
)
def test_bad_usage_exits_2(cli: Cli, args: list[str]) -> None:
    code, _, _ = cli(*args)
    assert code == ExitCode.USAGE


def test_commands_need_a_session_to_poll(cli: Cli) -> None:
    code, _, err = cli("result", str(uuid.uuid4()))
    assert code == ExitCode.USAGE
    assert "no saved session" in err


def test_missing_runtime_arn_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("AGENTCORE_RUNTIME_ARN", "AGENTCORE_OUTPUTS_FILE"):
        monkeypatch.delenv(name, raising=False)
    err = io.StringIO()
    assert main(["list"], out=io.StringIO(), err=err) == ExitCode.USAGE
    assert "--runtime-arn" in err.getvalue()


def test_sessions_needs_the_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTCORE_ENDPOINT_URL", raising=False)
    err = io.StringIO()
    code = main(["sessions"], out=io.StringIO(), err=err)
    assert code == ExitCode.USAGE
    assert "--endpoint-url" in err.getvalue()


def test_module_entry_point_from_env_without_aws_credentials(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(
        {
            "AGENTCORE_ENDPOINT_URL": emulator.url,
            "AGENTCORE_RUNTIME_ARN": emulator.arn,
            "AGENTCORE_STATE_FILE": str(tmp_path / "state.json"),
            "AWS_CONFIG_FILE": str(tmp_path / "none"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "PYTHONPATH": str(REPO_ROOT),
        }
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "agentcore_async.client", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    started = run("start", "--duration", "0.5")
    assert started.returncode == 0, started.stderr
    waited = run("wait", started.stdout.strip(), "--timeout", "30")
    assert waited.returncode == 0, waited.stderr
    assert json.loads(waited.stdout)["status"] == "COMPLETED"
    assert run("wait").returncode == 2


class Terminal(io.StringIO):
    """Output that says it is a terminal, so `sessions` draws its table."""

    def isatty(self) -> bool:
        return True


def test_sessions_draws_a_table_on_a_terminal(cli: Cli) -> None:
    cli("start", "--duration", "0.1")
    session_id = json.loads(cli.state_file.read_text())["session_id"]
    out = Terminal()
    assert main(["sessions", "--endpoint-url", cli.url], out=out, err=io.StringIO()) == ExitCode.OK
    drawn = out.getvalue()
    assert "running" in drawn
    assert session_id[:8] in drawn
    assert "{" not in drawn  # a table, not JSON


def test_start_a_kind_with_input_from_a_file_and_list_the_kinds(cli: Cli, tmp_path: Path) -> None:
    code, out, err = cli("kinds")
    assert code == ExitCode.OK, err
    kinds = {kind["name"]: kind for kind in json.loads(out)}
    assert {"sleep", "agent_run", "batch"} <= set(kinds)
    assert kinds["batch"]["resumable"] is True
    assert "items" in kinds["batch"]["input_schema"]["properties"]

    items = tmp_path / "items.json"
    items.write_text(json.dumps({"instruction": "upper", "items": ["a", "b"]}))
    code, out, err = cli("start", "--kind", "batch", "--input", f"@{items}")
    assert code == ExitCode.OK, err
    code, out, _ = cli("wait", out.strip(), "--timeout", "30", "--long-poll", "5")
    assert code == ExitCode.OK
    done = json.loads(out)
    assert (done["status"], done["kind"], done["result"]) == ("COMPLETED", "batch", ["A", "B"])


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--kind", "batch", "--input", "@/nonexistent/items.json"], "cannot read --input file"),
        (["--kind", "batch", "--input", "{not json"], "--input is not JSON"),
        (["--kind", "batch", "--input", "[1, 2]"], "must hold a JSON object"),
        (["--kind", "sleep", "--duration", "3"], "with --kind use --input"),
        ([], "start needs --kind"),
    ],
)
def test_start_usage_errors_name_the_problem(cli: Cli, args: list[str], says: str) -> None:
    code, out, err = cli("start", *args)
    assert (code, out) == (ExitCode.USAGE, "")
    assert says in err
    assert "Traceback" not in err


def test_a_bad_kind_input_is_refused_with_its_path(cli: Cli) -> None:
    code, _out, err = cli("start", "--kind", "batch", "--input", '{"instruction": "x", "items": [1]}')
    assert code == ExitCode.FAILED
    assert "InvalidField: input.items.0" in " ".join(err.split())
