"""``python -m client``: start, poll, wait for and cancel tasks on AWS or the emulator."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from client.api import AgentClient, WaitTimeout, boto_client
from client.errors import AgentError
from client.exit_codes import ExitCode
from client.models import TaskResult, TaskStatus
from client.progress import wait_reporter
from client.session_ids import check_session_id, new_session_id
from client.session_table import fetch_session_table
from client.smoke import SmokeRun, run_checks, stop_sessions, summary
from client.state import SessionState, StateFileError, default_state_file
from client.target import Target, TargetError, resolve_target


class UsageError(Exception):
    """The command line cannot be carried out as given (exit code 2)."""


def _task_id(value: str) -> str:
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a task id (uuid): {value!r}") from None
    return str(parsed)


def _positive(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {value}")
    return number


def parser() -> argparse.ArgumentParser:
    """The argument parser; argparse exits 2 on bad usage."""
    targeted = argparse.ArgumentParser(add_help=False)
    where = targeted.add_argument_group(
        "target (flags, else AGENTCORE_* env vars, else the cdk outputs file)"
    )
    where.add_argument("--endpoint-url", help="the emulator's URL; omit to call AWS")
    where.add_argument("--runtime-arn", help="the AgentCore runtime ARN")
    where.add_argument("--region", help="AWS region (default: from the ARN)")
    where.add_argument("--qualifier", help="runtime endpoint (default DEFAULT)")
    where.add_argument(
        "--outputs-file", type=Path, help="`cdk deploy --outputs-file` JSON holding RuntimeArn"
    )
    where.add_argument("--stage", help="stage whose Runtime stack to read from the outputs file")
    common = argparse.ArgumentParser(add_help=False, parents=[targeted])
    session = common.add_argument_group("session")
    session.add_argument("--session-id", help="runtime session id to use (33-256 characters)")
    session.add_argument("--new-session", action="store_true", help="start a fresh session (start/invoke)")
    session.add_argument("--state-file", type=Path, help="where the session id is saved")

    p = argparse.ArgumentParser(
        prog="python -m client",
        description="Run background tasks on an AgentCore runtime (AWS or the local emulator).",
        epilog=(
            "Exit codes: 0 completed, 1 failed/lost/cancelled or call failed, 2 bad usage, 3 timeout, "
            "130 interrupted (Ctrl-C)."
        ),
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    start = sub.add_parser(
        "start",
        parents=[common],
        help="start a background task; prints its id",
        description="Start a task of a kind (`--kind K --input JSON`), or the seed's sleep (`--duration S`).",
    )
    start.add_argument("--kind", help="task kind (see `kinds`); needs --input unless its input is empty")
    start.add_argument(
        "--input", dest="task_input", help="the kind's input: a JSON object, or @FILE holding one"
    )
    start.add_argument("--duration", type=_positive, help="seconds of work of the default sleep task")
    start.add_argument("--result-bytes", type=int, help="size of the sleep task's result")
    start.add_argument("--client-token", help="idempotency token: a retry returns the same task")
    start.add_argument(
        "--retention", choices=["durable", "ephemeral"], help="where the task is kept (default durable)"
    )
    sub.add_parser("kinds", parents=[common], help="the agent's task kinds and their input schemas")
    result = sub.add_parser("result", parents=[common], help="print a task's state")
    result.add_argument("task_id", type=_task_id)
    result.add_argument(
        "--wait-seconds", type=int, default=0, help="long-poll up to this many seconds (0-60)"
    )
    wait = sub.add_parser("wait", parents=[common], help="wait for a task with a progress bar")
    wait.add_argument("task_id", type=_task_id)
    wait.add_argument("--timeout", type=_positive, default=3600.0, help="give up after this many seconds")
    wait.add_argument("--long-poll", type=int, default=5, help="seconds each poll may be held (1-60)")
    wait.add_argument("--no-progress", action="store_true", help="no progress bar")
    cancel = sub.add_parser("cancel", parents=[common], help="cancel a running task")
    cancel.add_argument("task_id", type=_task_id)
    listing = sub.add_parser("list", parents=[common], help="this session's tasks, newest first")
    listing.add_argument("--limit", type=int, help="page size")
    invoke = sub.add_parser("invoke", parents=[common], help="send a prompt to the agent's model")
    invoke.add_argument("--prompt", required=True)
    sub.add_parser("sessions", parents=[common], help="the emulator's session table (emulator only)")
    sub.add_parser("stop", parents=[common], help="stop the session's microVM (StopRuntimeSession)")
    smoke = sub.add_parser(
        "smoke", parents=[targeted], help="check a runtime end to end in fresh sessions (after a deploy)"
    )
    smoke.add_argument("--task-seconds", type=_positive, default=2.0, help="length of the short task")
    smoke.add_argument("--timeout", type=_positive, default=120.0, help="longest wait for one task")
    return p


def _session_id(args: argparse.Namespace, target: Target, state: SessionState, console: Console) -> str:
    """The session to use; commands that start work create (and save) one when none is saved."""
    creates = args.command in ("start", "invoke")
    if args.session_id:
        try:
            session_id = check_session_id(args.session_id)
        except ValueError as error:
            raise UsageError(str(error)) from None
        if creates:
            state.save(target.runtime_arn, session_id)
        return session_id
    if creates:
        session_id, created = state.session_for(target.runtime_arn, fresh=args.new_session)
        console.print(
            f"session {session_id} ({'new, saved to' if created else 'from'} {state.path})", markup=False
        )
        return session_id
    saved = state.load(target.runtime_arn)
    if saved is None and args.command == "kinds":
        return new_session_id()  # any session can describe the kinds; nothing to save
    if saved is None:
        raise UsageError(f"no saved session in {state.path}: pass --session-id, or run `start` first")
    return saved


def _emit(value: Any, out: TextIO) -> None:
    out.write(json.dumps(value, indent=2, default=str) + "\n")


def _status_code(result: TaskResult) -> ExitCode:
    if result.status in (TaskStatus.COMPLETED, TaskStatus.RUNNING):
        return ExitCode.OK
    return ExitCode.FAILED


def _sessions(target: Target, out: TextIO, console: Console) -> ExitCode:
    if not target.endpoint_url:
        raise UsageError("`sessions` reads the emulator's session table: pass --endpoint-url")
    try:
        table = fetch_session_table(target.endpoint_url)
    except (OSError, ValueError) as error:
        console.print(
            f"cannot read the session table at {target.endpoint_url}: {error}", style="red", markup=False
        )
        return ExitCode.FAILED
    if not out.isatty():
        _emit(table, out)
        return ExitCode.OK
    view = Table("vm", "state", "age s", "idle s", "ping", "last ping s", "ended")
    view.add_column("session", overflow="fold")  # ids are long; show them whole
    for row in table.get("sessions", []):
        view.add_row(
            str(row["microvm"]),
            str(row["state"]),
            f"{row['age_seconds']:.1f}",
            "-" if row["idle_seconds"] is None else f"{row['idle_seconds']:.1f}",
            str(row["ping_status"] or "-"),
            "-" if row["last_ping_seconds_ago"] is None else f"{row['last_ping_seconds_ago']:.1f}",
            str(row["end_reason"] or "-"),
            str(row["session_id"]),
        )
    Console(file=out).print(view)
    return ExitCode.OK


def _task_input(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    source = "--input"
    if text.startswith("@"):
        source = text[1:]
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot read --input file {source}: {error.strerror or error}") from None
    try:
        value = json.loads(text)
    except ValueError as error:
        raise UsageError(f"{source} is not JSON: {error}") from None
    if not isinstance(value, dict):
        raise UsageError(f"{source} must hold a JSON object (the kind's input)")
    return value


def _start(args: argparse.Namespace, client: AgentClient, out: TextIO, console: Console) -> ExitCode:
    if args.kind is None:
        if args.duration is None or args.task_input is not None:
            raise UsageError("start needs --kind K [--input JSON], or --duration S for the sleep task")
        if args.retention is not None:
            raise UsageError("--retention needs --kind")
        task_id = client.start(args.duration, result_bytes=args.result_bytes, client_token=args.client_token)
    else:
        if args.duration is not None or args.result_bytes is not None:
            raise UsageError("--duration and --result-bytes are the sleep task's; with --kind use --input")
        task_id = client.start_task(
            args.kind, _task_input(args.task_input), client_token=args.client_token, retention=args.retention
        )
    out.write(task_id + "\n")
    return ExitCode.OK


def _kinds(args: argparse.Namespace, client: AgentClient, out: TextIO, console: Console) -> ExitCode:
    _emit(client.kinds(), out)
    return ExitCode.OK


def _result(args: argparse.Namespace, client: AgentClient, out: TextIO, console: Console) -> ExitCode:
    if not 0 <= args.wait_seconds <= 60:
        raise UsageError("--wait-seconds must be 0-60")
    task = client.result(args.task_id, wait_seconds=args.wait_seconds)
    _emit(task.as_dict(), out)
    return _status_code(task)


def _wait(args: argparse.Namespace, client: AgentClient, out: TextIO, console: Console) -> ExitCode:
    # How it ended is printed after the bar is gone, so it is not drawn into the bar's frame.
    ended: WaitTimeout | KeyboardInterrupt | None = None
    with wait_reporter(args.task_id, console, bar=not args.no_progress) as reporter:
        try:
            task = client.wait(
                args.task_id, args.timeout, on_update=reporter.update, on_retry=reporter.retrying
            )
        except (WaitTimeout, KeyboardInterrupt) as stopped:
            ended = stopped
    if isinstance(ended, KeyboardInterrupt):
        return _interrupted(args.task_id, reporter.last, out, console)
    if isinstance(ended, WaitTimeout):
        if ended.last is not None:
            _emit(ended.last.as_dict(), out)
        why = "" if ended.last_error is None else f"; last error {ended.last_error}"
        console.print(f"timed out after {args.timeout:g}s{why}", style="yellow", markup=False)
        return ExitCode.TIMEOUT
    _emit(task.as_dict(), out)
    return ExitCode.OK if task.status is TaskStatus.COMPLETED else ExitCode.FAILED


def _interrupted(task_id: str, last: TaskResult | None, out: TextIO, console: Console) -> ExitCode:
    """Ctrl-C during ``wait``: say where the task stands (it runs on, on the runtime)."""
    resume = f"`python -m client wait {task_id}` resumes waiting"
    if last is None:
        console.print(f"interrupted before the first answer about task {task_id}; {resume}", markup=False)
        return ExitCode.INTERRUPTED
    _emit(last.as_dict(), out)
    progress = "" if last.progress is None else f" ({last.progress:.0%})"
    seen = f"interrupted; task {task_id} was last seen {last.status}{progress}"
    console.print(seen if last.status.finished else f"{seen} and keeps running; {resume}", markup=False)
    return ExitCode.INTERRUPTED


def _cancel(args: argparse.Namespace, client: AgentClient, out: TextIO, console: Console) -> ExitCode:
    _emit(client.cancel(args.task_id).as_dict(), out)
    return ExitCode.OK


def _list(args: argparse.Namespace, client: AgentClient, out: TextIO, console: Console) -> ExitCode:
    _emit(client.list(limit=args.limit), out)
    return ExitCode.OK


def _invoke(args: argparse.Namespace, client: AgentClient, out: TextIO, console: Console) -> ExitCode:
    _emit(client.prompt(args.prompt), out)
    return ExitCode.OK


def _stop(args: argparse.Namespace, client: AgentClient, out: TextIO, console: Console) -> ExitCode:
    client.stop_session()
    console.print(f"session {client.session_id} stopped")
    return ExitCode.OK


Handler = Callable[[argparse.Namespace, AgentClient, TextIO, Console], ExitCode]
HANDLERS: dict[str, Handler] = {
    "start": _start,
    "kinds": _kinds,
    "result": _result,
    "wait": _wait,
    "cancel": _cancel,
    "list": _list,
    "invoke": _invoke,
    "stop": _stop,
}


def _smoke(args: argparse.Namespace, target: Target, out: TextIO, console: Console) -> ExitCode:
    boto = boto_client(target)
    run = SmokeRun(
        connect=lambda session_id: AgentClient(
            boto, runtime_arn=target.runtime_arn, session_id=session_id, qualifier=target.qualifier
        ),
        task_seconds=args.task_seconds,
        timeout=args.timeout,
    )
    where = target.endpoint_url or "AWS"
    out.write(f"smoke: {target.runtime_arn} at {where}, session {run.session_id}\n")
    outcomes = run_checks(run, out)
    for note in stop_sessions(run):
        console.print(note, markup=False)
    out.write(summary(outcomes) + "\n")
    return ExitCode.OK if all(outcome.passed for outcome in outcomes) else ExitCode.FAILED


def run(args: argparse.Namespace, out: TextIO, console: Console) -> ExitCode:
    """Carry out one parsed command."""
    target = resolve_target(
        runtime_arn=args.runtime_arn,
        endpoint_url=args.endpoint_url,
        region=args.region,
        qualifier=args.qualifier,
        outputs_file=args.outputs_file,
        stage=args.stage,
    )
    if args.command == "sessions":
        return _sessions(target, out, console)
    if args.command == "smoke":
        return _smoke(args, target, out, console)
    long_poll = getattr(args, "long_poll", 5)
    if not 1 <= long_poll <= 60:
        raise UsageError("--long-poll must be 1-60 seconds")
    boto = boto_client(target)
    state = SessionState(args.state_file or default_state_file())
    client = AgentClient(
        boto,
        runtime_arn=target.runtime_arn,
        session_id=_session_id(args, target, state, console),
        qualifier=target.qualifier,
        long_poll_seconds=long_poll,
    )
    return HANDLERS[args.command](args, client, out, console)


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Parse ``argv`` and run it; returns the exit code. Never raises: every failure is one line."""
    out = out or sys.stdout
    # soft_wrap: a long path or message stays one line (the terminal wraps it, not rich).
    console = Console(file=err or sys.stderr, soft_wrap=True)
    try:
        args = parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        return run(args, out, console)
    except (UsageError, TargetError, StateFileError) as error:
        console.print(f"[red]error:[/red] {escape(str(error))}")
        return ExitCode.USAGE
    except AgentError as error:
        console.print(f"[red]{escape(error.code)}:[/red] {escape(error.message)}")
        return ExitCode.FAILED
    except BotoCoreError as error:  # botocore refusing before any call, e.g. a broken profile
        console.print(f"[red]{type(error).__name__}:[/red] {escape(str(error))}")
        return ExitCode.FAILED
    except KeyboardInterrupt:
        console.print("interrupted")
        return ExitCode.INTERRUPTED
