"""What the CLI prints: a summary on a pseudo-terminal, JSON when piped; help, cursors, cancel's
exit codes, and errors that say what to do."""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from agentcore_async.client.cli import main, parser
from agentcore_async.client.exit_codes import ExitCode
from emulator.process import SQLITE_FILE
from tests.emulator.harness import REPO_ROOT, RunningEmulator, running_emulator
from tests.support.bad_records import plant_sqlite_copy
from tests.support.servers import free_port

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
ZONE = "Asia/Kolkata"
"""A local time zone that is not UTC (+05:30), so a local ISO time is told from a UTC one."""


class Terminal:
    """Runs ``python -m agentcore_async.client`` with stdout on a pseudo-terminal (stderr piped), as a
    person would."""

    def __init__(self, emulator: RunningEmulator, state_file: Path) -> None:
        self.env = {
            **{key: value for key, value in os.environ.items() if not key.startswith("AGENTCORE_")},
            "PYTHONPATH": str(REPO_ROOT),
            "TZ": ZONE,
            "COLUMNS": "200",
            "TERM": "xterm",
        }
        self.target = [
            "--endpoint-url",
            emulator.url,
            "--runtime-arn",
            emulator.arn,
            "--state-file",
            str(state_file),
        ]

    def run(self, *argv: str, tty: bool) -> tuple[int, str, str]:
        """One command; stdout on a pty (``tty``) or a pipe. Returns code, stdout, stderr."""
        command = [sys.executable, "-m", "agentcore_async.client", argv[0], *self.target, *argv[1:]]
        if not tty:
            done = subprocess.run(
                command, env=self.env, capture_output=True, text=True, timeout=90, check=False
            )
            return done.returncode, done.stdout, done.stderr
        leader, follower = pty.openpty()
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        with subprocess.Popen(
            command, env=self.env, stdin=subprocess.DEVNULL, stdout=follower, stderr=subprocess.PIPE
        ) as process:
            os.close(follower)
            chunks = []
            while True:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # EIO: the command closed the terminal
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            os.close(leader)
            stderr = process.stderr.read().decode() if process.stderr else ""
            code = process.wait(timeout=90)
        return code, ANSI.sub("", b"".join(chunks).decode().replace("\r\n", "\n")), stderr


@pytest.fixture
def terminal(emulator: RunningEmulator, tmp_path: Path) -> Terminal:
    return Terminal(emulator, tmp_path / "session.json")


def local_iso(timestamp: float) -> str:
    os.environ["TZ"] = ZONE
    try:
        import time  # noqa: PLC0415 - tzset applies the zone to this process

        time.tzset()
        return datetime.fromtimestamp(timestamp).astimezone().isoformat(timespec="seconds")
    finally:
        os.environ.pop("TZ")
        time.tzset()


def test_result_wait_and_list_print_a_summary_on_a_terminal_and_json_when_piped(terminal: Terminal) -> None:
    code, out, err = terminal.run("start", "--duration", "1", tty=False)
    assert code == ExitCode.OK, err
    task_id = out.strip()

    code, shown, _ = terminal.run("wait", task_id, "--timeout", "60", tty=True)
    assert code == ExitCode.OK
    code, piped, _ = terminal.run("result", task_id, tty=False)
    task = json.loads(piped)  # piped: the agent's JSON, unchanged
    assert task["status"] == "COMPLETED"
    created = local_iso(task["created_at"])
    assert created.endswith("+05:30")
    for expected in (task_id, "sleep", "COMPLETED", "100%", "1.0 of 1 s", created, "Task completed after 1s"):
        assert expected in shown, (expected, shown)
    assert "{" not in shown

    code, shown, _ = terminal.run("result", task_id, tty=True)
    assert code == ExitCode.OK
    assert re.search(r"status\s+COMPLETED", shown) and created in shown and "ago)" in shown

    code, shown, _ = terminal.run("list", tty=True)
    assert code == ExitCode.OK
    # list_tasks answers without results, so the row has no preview of one.
    assert task_id in shown and "COMPLETED" in shown and created in shown and "1.0 of 1 s" in shown
    code, piped, _ = terminal.run("list", tty=False)
    assert [listed["task_id"] for listed in json.loads(piped)["tasks"]] == [task_id]
    code, forced, _ = terminal.run("list", "--json", tty=True)
    assert json.loads(forced)["tasks"][0]["task_id"] == task_id


def test_list_shows_an_unreadable_task_and_result_names_it(
    terminal: Terminal, emulator: RunningEmulator, session_id: str
) -> None:
    """A record the agent cannot read (here: a newer version's status) is listed, not hidden, and
    ``result`` of it is the agent's one-line error."""
    session = ("--session-id", session_id)
    code, out, err = terminal.run("start", "--duration", "60", *session, tty=False)
    assert code == ExitCode.OK, err
    unreadable = str(uuid.uuid4())
    plant_sqlite_copy(
        emulator.store_dir / SQLITE_FILE, session_id, out.strip(), unreadable, {"status": "PAUSED"}
    )

    code, shown, err = terminal.run("list", *session, tty=True)
    assert code == ExitCode.OK, err
    assert re.search(rf"{unreadable}\s.*UNREADABLE", shown), shown
    code, piped, _ = terminal.run("list", *session, tty=False)
    assert {task["task_id"]: task["status"] for task in json.loads(piped)["tasks"]}[
        unreadable
    ] == "UNREADABLE"
    code, _, err = terminal.run("result", unreadable, *session, tty=False)
    assert code == ExitCode.FAILED
    [line] = err.strip().splitlines()
    assert line.startswith("RecordUnreadable: ") and unreadable in line


def test_error_text_is_one_line_when_piped(terminal: Terminal, tmp_path: Path) -> None:
    deep = tmp_path / ("a-long-directory-name-" * 4) / "session.json"
    terminal.env["COLUMNS"] = "40"
    code, _, err = terminal.run("result", str(uuid.uuid4()), "--state-file", str(deep), tty=False)
    assert code == ExitCode.USAGE
    [line] = err.strip().splitlines()
    assert str(deep) in line


def test_list_pages_with_cursor(emulator: RunningEmulator, tmp_path: Path) -> None:
    base = [
        "--endpoint-url",
        emulator.url,
        "--runtime-arn",
        emulator.arn,
        "--state-file",
        str(tmp_path / "s.json"),
    ]

    def cli(*argv: str) -> tuple[int, str]:
        out = io.StringIO()
        return main([argv[0], *base, *argv[1:]], out=out, err=io.StringIO()), out.getvalue()

    started = [cli("start", "--duration", "0.1")[1].strip() for _ in range(3)]
    _, first = cli("list", "--limit", "2")
    page = json.loads(first)
    assert [task["task_id"] for task in page["tasks"]] == started[:0:-1]
    _, second = cli("list", "--limit", "2", "--cursor", page["next_cursor"])
    assert [task["task_id"] for task in json.loads(second)["tasks"]] == started[:1]


def test_cancel_exits_0_when_the_task_ends_cancelled_and_1_when_nothing_was_cancelled(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    base = [
        "--endpoint-url",
        emulator.url,
        "--runtime-arn",
        emulator.arn,
        "--state-file",
        str(tmp_path / "s.json"),
    ]

    def cli(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        return main([argv[0], *base, *argv[1:]], out=out, err=err), out.getvalue(), err.getvalue()

    running = cli("start", "--duration", "30")[1].strip()
    code, out, _ = cli("cancel", running)
    assert (code, json.loads(out)["status"]) == (ExitCode.OK, "CANCELLED")
    assert cli("cancel", running)[0] == ExitCode.OK  # already cancelled: still what was asked

    finished = cli("start", "--duration", "0.1")[1].strip()
    assert cli("wait", finished, "--timeout", "30")[0] == ExitCode.OK
    code, out, err = cli("cancel", finished)
    assert (code, json.loads(out)["status"]) == (ExitCode.FAILED, "COMPLETED")
    assert "had already ended COMPLETED; nothing was cancelled" in err


def test_every_subcommand_documents_itself() -> None:
    commands = parser("agentcore-async")._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name, command in commands.items():
        assert command.description, name
        text = command.format_help()
        assert "exit codes:" in text, name
        for action in command._actions:
            assert action.help, (name, action.dest)
            if action.default not in (None, False) and action.dest != "help":
                assert "default" in action.help, (name, action.dest)
        if name not in ("sessions",):
            assert "AGENTCORE_RUNTIME_ARN" in text, name
    options = {name: {o for a in c._actions for o in a.option_strings} for name, c in commands.items()}
    assert "--cursor" in options["list"]
    assert "--new-session" in options["start"] and "--new-session" not in options["result"]
    assert "--runtime-arn" not in options["sessions"] and "--state-file" not in options["smoke"]


def test_errors_say_what_to_do(emulator: RunningEmulator, tmp_path: Path) -> None:
    state = tmp_path / "s.json"

    def cli(*argv: str) -> tuple[int, str]:
        err = io.StringIO()
        return main(list(argv), out=io.StringIO(), err=err), err.getvalue()

    # Nothing answers at the emulator's URL.
    down = f"http://127.0.0.1:{free_port()}"
    target = ["--runtime-arn", emulator.arn, "--state-file", str(state)]
    code, err = cli("start", "--endpoint-url", down, *target, "--duration", "1")
    assert code == ExitCode.FAILED
    assert f"hint: nothing answers at {down}; start the emulator with `make local`" in err

    # The saved session belongs to another runtime.
    other = "arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/other_agent-emulator1"
    state.write_text(json.dumps({"runtime_arn": other, "session_id": f"session-{uuid.uuid4().hex}"}))
    code, err = cli("result", str(uuid.uuid4()), "--endpoint-url", emulator.url, *target)
    assert code == ExitCode.USAGE
    assert f"belongs to runtime {other}, not {emulator.arn}" in err
    code, err = cli("start", "--endpoint-url", emulator.url, *target, "--duration", "0.1")
    assert code == ExitCode.OK
    assert "replaces the saved session" in err and other in err


def test_a_prompt_the_model_cannot_answer_says_it_needs_bedrock(tmp_path: Path) -> None:
    unreachable = {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": f"http://127.0.0.1:{free_port()}"}
    with running_emulator(env=unreachable) as emulator:
        err = io.StringIO()
        code = main(
            ["invoke", "--endpoint-url", emulator.url, "--runtime-arn", emulator.arn,
             "--state-file", str(tmp_path / "s.json"), "--prompt", "start a 1 second task"],
            out=io.StringIO(), err=err,
        )  # fmt: skip
    assert code == ExitCode.FAILED
    assert "RuntimeClientError: Received error (500) from runtime" in err.getvalue()
    assert "needs Bedrock access" in err.getvalue() and "make local" in err.getvalue()
