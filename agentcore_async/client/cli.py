"""``agentcore-async`` (or ``python -m agentcore_async.client``): start, poll, wait for and cancel
tasks on AWS or the emulator."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import textwrap
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final, TextIO

from botocore.exceptions import BotoCoreError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agentcore_async.client.advice import advice, emulator_down
from agentcore_async.client.api import MAX_WAIT_SECONDS, AgentClient, WaitTimeout, runtime_client
from agentcore_async.client.errors import AgentError
from agentcore_async.client.exit_codes import ExitCode
from agentcore_async.client.models import TaskResult, TaskStatus
from agentcore_async.client.progress import wait_reporter
from agentcore_async.client.session_ids import check_session_id, new_session_id
from agentcore_async.client.session_table import fetch_session_table
from agentcore_async.client.smoke import SmokeRun, run_checks, stop_sessions, summary
from agentcore_async.client.state import SessionState, StateFileError, default_state_file
from agentcore_async.client.target import ENV_ENDPOINT_URL, Target, TargetError, resolve_target
from agentcore_async.client.tracing import environment_trace_context
from agentcore_async.client.version import __version__
from agentcore_async.client.views import list_view, task_view

PROG: Final = "agentcore-async"
HELP_WIDTH: Final = 78


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


ENV_READ: Final = (
    "environment: AGENTCORE_ENDPOINT_URL, AGENTCORE_RUNTIME_ARN, AGENTCORE_OUTPUTS_FILE,\n"
    "AGENTCORE_QUALIFIER and AGENTCORE_BEARER_TOKEN stand in for the target flags; against AWS\n"
    "without a bearer token, boto3 reads AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/\n"
    "AWS_SESSION_TOKEN and AWS_DEFAULT_REGION. TRACEPARENT, TRACESTATE and BAGGAGE (W3C trace\n"
    "context) are sent with every call, so the agent's spans join that trace."
)
ENV_STATE: Final = "AGENTCORE_STATE_FILE stands in for --state-file."
EXIT_CODES: Final[dict[str, str]] = {
    "start": "0 started, 1 the call failed",
    "kinds": "0 listed, 1 the call failed",
    "result": "0 RUNNING, SUSPENDED or COMPLETED, 1 FAILED, LOST or CANCELLED (or the call failed)",
    "wait": "0 COMPLETED, 1 FAILED, LOST or CANCELLED (or the call failed), 3 timeout, 130 Ctrl-C",
    "cancel": "0 the task is CANCELLED, 1 it had ended otherwise or still runs (or the call failed)",
    "list": "0 listed, 1 the call failed",
    "invoke": "0 answered, 1 the call failed",
    "sessions": "0 listed, 1 the emulator did not answer",
    "stop": "0 stopped, 1 the call failed",
    "smoke": "0 every check passed, 1 a check failed",
}


def invoked_as(argv0: str | None = None) -> str:
    """How the user ran the CLI, for commands it suggests: ``agentcore-async`` when that is on
    PATH, the script's path as typed otherwise, or ``python -m agentcore_async.client``."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    name = Path(argv0).name
    if name != PROG:
        return "python -m agentcore_async.client"
    found = shutil.which(PROG)
    return PROG if found and Path(found).resolve() == Path(argv0).resolve() else argv0


def _target_flags(p: argparse.ArgumentParser) -> None:
    where = p.add_argument_group("target: flags, else AGENTCORE_* variables, else a cdk outputs file")
    where.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="the local emulator, e.g. http://127.0.0.1:8090 "
        "(default: $AGENTCORE_ENDPOINT_URL; unset calls AWS)",
    )
    where.add_argument(
        "--runtime-arn",
        metavar="ARN",
        help="the AgentCore runtime (default: $AGENTCORE_RUNTIME_ARN, else RuntimeArn in the outputs file)",
    )
    where.add_argument(
        "--outputs-file",
        type=Path,
        metavar="FILE",
        help="`cdk deploy --outputs-file` JSON holding RuntimeArn "
        "(default: $AGENTCORE_OUTPUTS_FILE, else cdk-outputs.json when it exists)",
    )
    where.add_argument("--stage", help="whose Runtime stack to read when the outputs file holds several")
    where.add_argument("--region", help="AWS region (default: the ARN's, else $AWS_DEFAULT_REGION)")
    where.add_argument(
        "--qualifier", metavar="NAME", help="runtime endpoint (default: $AGENTCORE_QUALIFIER, else DEFAULT)"
    )
    where.add_argument(
        "--bearer-token",
        metavar="JWT",
        help="call a runtime with a JWT authorizer over HTTPS with this token instead of SigV4 "
        "(default: $AGENTCORE_BEARER_TOKEN, which keeps it out of the process list)",
    )


def _session_flags(p: argparse.ArgumentParser, *, creates: bool) -> None:
    session = p.add_argument_group("session: the saved one unless given")
    session.add_argument(
        "--session-id", metavar="ID", help="runtime session to use (33-256 letters, digits, - and _)"
    )
    if creates:
        session.add_argument(
            "--new-session",
            action="store_true",
            help="start a fresh session and save it instead of the saved one",
        )
    session.add_argument(
        "--state-file",
        type=Path,
        metavar="FILE",
        help="where the session id is saved (default: $AGENTCORE_STATE_FILE, else .agentcore-session.json)",
    )


def _json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--json",
        action="store_true",
        help="print the agent's JSON (the default when stdout is not a terminal)",
    )


def _command(
    sub: Any, name: str, summary: str, description: str, *, target: bool = True, session: str | None = None
) -> argparse.ArgumentParser:
    """A subcommand with its description, and an epilog naming its exit codes and environment."""
    epilog = [f"exit codes: {EXIT_CODES[name]}, 2 bad usage."]
    if target:
        epilog.append(ENV_READ)
    if session is not None:
        epilog.append(ENV_STATE)
    p: argparse.ArgumentParser = sub.add_parser(
        name,
        help=summary,
        description=textwrap.fill(description, width=HELP_WIDTH),
        epilog="\n".join(epilog),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if target:
        _target_flags(p)
    if session is not None:
        _session_flags(p, creates=session == "creates")
    return p


def parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; argparse exits 2 on bad usage."""
    p = argparse.ArgumentParser(
        prog=prog or invoked_as(),
        description="Run background tasks on an AgentCore runtime: on AWS, or on the local emulator "
        "(make local) with --endpoint-url. `COMMAND --help` describes each command.",
        epilog="Exit codes: 0 success, 1 the task or call failed, 2 bad usage, 3 timeout, 130 Ctrl-C; "
        "each command's --help says which apply.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    start = _command(
        sub,
        "start",
        "start a background task; prints its id",
        "Start a task of a kind (--kind K --input JSON) or the seed's sleep task (--duration S) in the "
        "saved session (created and saved when there is none); prints the task id.",
        session="creates",
    )
    work = start.add_argument_group("the task")
    work.add_argument("--kind", help="task kind (`kinds` lists them); its input goes in --input")
    work.add_argument(
        "--input",
        dest="task_input",
        metavar="JSON",
        help="the kind's input: a JSON object, or @FILE holding one",
    )
    work.add_argument("--duration", type=_positive, metavar="S", help="seconds of work of the sleep task")
    work.add_argument(
        "--result-bytes",
        type=int,
        metavar="N",
        help="size of the sleep task's result (default: a short text)",
    )
    work.add_argument("--client-token", help="idempotency token: a retry with it returns the same task")
    work.add_argument(
        "--retention",
        choices=["durable", "ephemeral"],
        help="where the task is kept (default: durable; ephemeral needs the agent's Redis)",
    )
    _command(
        sub,
        "kinds",
        "the agent's task kinds and their input schemas (JSON)",
        "Print the agent's task kinds with their descriptions and input JSON schemas.",
        session="reads",
    )
    result = _command(
        sub,
        "result",
        "a task's state, once",
        "Print a task's state: a summary on a terminal, the agent's JSON otherwise.",
        session="reads",
    )
    result.add_argument(
        "task_id", type=_task_id, metavar="TASK_ID", help="the task's id, as `start` printed it"
    )
    result.add_argument(
        "--wait-seconds",
        type=int,
        default=0,
        metavar="N",
        help="long-poll: answer when the task finishes or after N seconds, 0-60 (default: 0, at once)",
    )
    _json_flag(result)
    wait = _command(
        sub,
        "wait",
        "wait for a task, with a progress bar",
        "Wait until a task finishes, riding through errors that may pass (a microVM ending, the "
        "store or endpoint down). The bar moves whenever the task reports progress. Prints the final "
        "state: a summary on a terminal, the agent's JSON otherwise.",
        session="reads",
    )
    wait.add_argument(
        "task_id", type=_task_id, metavar="TASK_ID", help="the task's id, as `start` printed it"
    )
    wait.add_argument(
        "--timeout",
        type=_positive,
        default=3600.0,
        metavar="S",
        help="give up after S seconds (default: 3600)",
    )
    wait.add_argument(
        "--long-poll",
        type=int,
        default=20,
        metavar="S",
        help="seconds the agent may hold each poll, 1-60 (default: 20)",
    )
    wait.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (retries are then one line each on stderr)",
    )
    wait.add_argument(
        "--stop-when-done",
        action="store_true",
        help="once the task finished, stop the session's microVM (StopRuntimeSession) unless another "
        "of its tasks is still running or suspended; results stay readable",
    )
    _json_flag(wait)
    cancel = _command(
        sub,
        "cancel",
        "cancel a running or suspended task",
        "Cancel a task and print its state afterwards; a task that already ended is left as it is.",
        session="reads",
    )
    cancel.add_argument(
        "task_id", type=_task_id, metavar="TASK_ID", help="the task's id, as `start` printed it"
    )
    _json_flag(cancel)
    listing = _command(
        sub,
        "list",
        "this session's tasks, newest first",
        "List the saved session's tasks, newest first, one page at a time: a table on a terminal, "
        "the agent's JSON (with next_cursor) otherwise.",
        session="reads",
    )
    listing.add_argument("--limit", type=int, metavar="N", help="tasks per page (default: the agent's, 20)")
    listing.add_argument("--cursor", help="the next page: next_cursor of the previous page")
    _json_flag(listing)
    invoke = _command(
        sub,
        "invoke",
        "send a prompt to the agent's model (needs Amazon Bedrock)",
        "Send a natural-language prompt to the agent, whose model (Amazon Bedrock) may start and "
        "manage tasks; prints its JSON answer. Needs Bedrock access even under the emulator.",
        session="creates",
    )
    invoke.add_argument("--prompt", required=True, help="what to ask the agent")
    sessions = _command(
        sub,
        "sessions",
        "the emulator's session table",
        "Print the local emulator's sessions and microVMs (GET /sessions; AWS has no such call).",
        target=False,
    )
    sessions.add_argument(
        "--endpoint-url", metavar="URL", help="the emulator (default: $AGENTCORE_ENDPOINT_URL)"
    )
    sessions.epilog = (
        sessions.epilog or ""
    ) + "\nenvironment: AGENTCORE_ENDPOINT_URL stands in for --endpoint-url."
    _json_flag(sessions)
    _command(
        sub,
        "stop",
        "stop the session's microVM",
        "Stop the saved session's microVM now (StopRuntimeSession); its next call starts a new one.",
        session="reads",
    )
    smoke = _command(
        sub,
        "smoke",
        "check a runtime end to end (after a deploy)",
        "Check a runtime end to end in two fresh sessions of its own: start, wait, list, cancel and "
        "session isolation; one line per check, then stop both sessions.",
    )
    smoke.add_argument(
        "--task-seconds",
        type=_positive,
        default=2.0,
        metavar="S",
        help="length of the short task (default: 2)",
    )
    smoke.add_argument(
        "--timeout",
        type=_positive,
        default=120.0,
        metavar="S",
        help="longest wait for one task (default: 120)",
    )
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
        other = state.saved()
        session_id, created = state.session_for(target.runtime_arn, fresh=args.new_session)
        note = f"session {session_id} ({'new, saved to' if created else 'from'} {state.path})"
        if created and other is not None and other[0] != target.runtime_arn:
            note += f"; it replaces the saved session {other[1]} of runtime {other[0]}"
        console.print(note, markup=False, highlight=False)
        return session_id
    saved = state.load(target.runtime_arn)
    if saved is None and args.command == "kinds":
        return new_session_id()  # any session can describe the kinds; nothing to save
    if saved is None:
        other = state.saved()
        if other is not None:
            raise UsageError(
                f"the session saved in {state.path} belongs to runtime {other[0]}, not {target.runtime_arn}; "
                "pass --session-id, run `start` against this runtime, or name another --state-file"
            )
        raise UsageError(f"no saved session in {state.path}: pass --session-id, or run `start` first")
    return saved


def _emit(value: Any, out: TextIO) -> None:
    out.write(json.dumps(value, indent=2, default=str) + "\n")


def _human(args: argparse.Namespace, out: TextIO) -> bool:
    """A person reads ``out``: a terminal, and no --json."""
    return not getattr(args, "json", False) and out.isatty()


def _show(task: TaskResult, args: argparse.Namespace, out: TextIO) -> None:
    if _human(args, out):
        Console(file=out).print(task_view(task))
    else:
        _emit(task.as_dict(), out)


def _sessions(args: argparse.Namespace, out: TextIO, console: Console) -> ExitCode:
    endpoint_url = args.endpoint_url or os.environ.get(ENV_ENDPOINT_URL)
    if not endpoint_url:
        raise UsageError(
            f"`sessions` reads the emulator's session table: pass --endpoint-url or set {ENV_ENDPOINT_URL}"
        )
    try:
        table = fetch_session_table(endpoint_url)
    except (OSError, ValueError) as error:
        console.print(f"cannot read the session table at {endpoint_url}: {error}", style="red", markup=False)
        console.print(f"hint: {emulator_down(endpoint_url)}", markup=False, highlight=False)
        return ExitCode.FAILED
    if not _human(args, out):
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
    if not 0 <= args.wait_seconds <= MAX_WAIT_SECONDS:
        raise UsageError(f"--wait-seconds must be 0-{MAX_WAIT_SECONDS}")
    task = client.result(args.task_id, wait_seconds=args.wait_seconds)
    _show(task, args, out)
    return (
        ExitCode.FAILED if task.status.finished and task.status is not TaskStatus.COMPLETED else ExitCode.OK
    )


def _wait(args: argparse.Namespace, client: AgentClient, out: TextIO, console: Console) -> ExitCode:
    # How it ended is printed after the bar is gone, so it is not drawn into the bar's frame.
    ended: WaitTimeout | KeyboardInterrupt | None = None
    with wait_reporter(args.task_id, console, bar=not args.no_progress) as reporter:
        try:
            task = client.wait(
                args.task_id,
                args.timeout,
                on_update=reporter.update,
                on_retry=reporter.retrying,
                follow_progress=reporter.draws,  # polls that follow progress only move a bar
            )
        except (WaitTimeout, KeyboardInterrupt) as stopped:
            ended = stopped
    if isinstance(ended, KeyboardInterrupt):
        return _interrupted(args, reporter.last, out, console)
    if isinstance(ended, WaitTimeout):
        if ended.last is not None:
            _show(ended.last, args, out)
        why = "" if ended.last_error is None else f"; last error {ended.last_error}"
        console.print(f"timed out after {args.timeout:g}s{why}", style="yellow", markup=False)
        return ExitCode.TIMEOUT
    _show(task, args, out)
    if args.stop_when_done:
        _stop_if_idle(client, console)
    return ExitCode.OK if task.status is TaskStatus.COMPLETED else ExitCode.FAILED


def _stop_if_idle(client: AgentClient, console: Console) -> None:
    """``--stop-when-done``: a failure to stop is told, and changes nothing about the task."""
    try:
        stopped = client.stop_session_if_idle()
    except AgentError as error:
        console.print(f"session {client.session_id} not stopped: {error}", style="yellow", markup=False)
        return
    if stopped:
        console.print(f"session {client.session_id} stopped", markup=False, highlight=False)
    else:
        console.print(
            f"session {client.session_id} left running: another of its tasks is still running or suspended",
            markup=False,
            highlight=False,
        )


def _interrupted(
    args: argparse.Namespace, last: TaskResult | None, out: TextIO, console: Console
) -> ExitCode:
    """Ctrl-C during ``wait``: say where the task stands (it runs on, on the runtime)."""
    task_id = args.task_id
    resume = f"`{args.prog} wait {task_id}` resumes waiting"
    if last is None:
        console.print(f"interrupted before the first answer about task {task_id}; {resume}", markup=False)
        return ExitCode.INTERRUPTED
    _show(last, args, out)
    progress = "" if last.progress is None else f" ({last.progress:.0%})"
    seen = f"interrupted; task {task_id} was last seen {last.status}{progress}"
    console.print(seen if last.status.finished else f"{seen} and keeps running; {resume}", markup=False)
    return ExitCode.INTERRUPTED


def _cancel(args: argparse.Namespace, client: AgentClient, out: TextIO, console: Console) -> ExitCode:
    task = client.cancel(args.task_id)
    _show(task, args, out)
    if task.status is TaskStatus.CANCELLED:
        return ExitCode.OK
    if task.status.finished:
        console.print(
            f"task {task.task_id} had already ended {task.status}; nothing was cancelled", markup=False
        )
    else:
        console.print(
            f"task {task.task_id} is still {task.status}: it has not stopped yet; "
            f"`{args.prog} wait {task.task_id}` follows it",
            markup=False,
        )
    return ExitCode.FAILED


def _list(args: argparse.Namespace, client: AgentClient, out: TextIO, console: Console) -> ExitCode:
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    page = client.list(limit=args.limit, next_token=args.cursor)
    if not _human(args, out):
        _emit(page, out)
        return ExitCode.OK
    tasks = [TaskResult.from_payload(task) for task in page.get("tasks", []) if _is_task(task)]
    cursor = page.get("next_cursor")
    view = list_view(tasks, next_cursor=cursor if isinstance(cursor, str) else None, prog=args.prog)
    Console(file=out).print(view)
    if page.get("warning"):
        console.print(f"warning: {page['warning']}", style="yellow", markup=False)
    return ExitCode.OK


def _is_task(value: Any) -> bool:
    try:
        TaskResult.from_payload(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


def _invoke(args: argparse.Namespace, client: AgentClient, out: TextIO, console: Console) -> ExitCode:
    _emit(client.prompt(args.prompt), out)
    return ExitCode.OK


def _stop(args: argparse.Namespace, client: AgentClient, out: TextIO, console: Console) -> ExitCode:
    client.stop_session()
    console.print(f"session {client.session_id} stopped", markup=False, highlight=False)
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
    boto = runtime_client(target)
    trace_context = environment_trace_context()
    run = SmokeRun(
        connect=lambda session_id: AgentClient(
            boto,
            runtime_arn=target.runtime_arn,
            session_id=session_id,
            qualifier=target.qualifier,
            trace_context=trace_context,
        ),
        task_seconds=args.task_seconds,
        timeout=args.timeout,
    )
    where = (target.endpoint_url or "AWS") + (" with a bearer token" if target.bearer_token else "")
    out.write(f"smoke: {target.runtime_arn} at {where}, session {run.session_id}\n")
    outcomes = run_checks(run, out)
    for note in stop_sessions(run):
        console.print(note, markup=False)
    out.write(summary(outcomes) + "\n")
    return ExitCode.OK if all(outcome.passed for outcome in outcomes) else ExitCode.FAILED


def target_of(args: argparse.Namespace) -> Target:
    """The runtime the command line names (flags, then the environment, then the outputs file)."""
    return resolve_target(
        runtime_arn=args.runtime_arn,
        endpoint_url=args.endpoint_url,
        region=args.region,
        qualifier=args.qualifier,
        outputs_file=args.outputs_file,
        stage=args.stage,
        bearer_token=args.bearer_token,
    )


def run(args: argparse.Namespace, target: Target, out: TextIO, console: Console) -> ExitCode:
    """Carry out one parsed command against ``target``."""
    if args.command == "smoke":
        return _smoke(args, target, out, console)
    long_poll = getattr(args, "long_poll", 20)
    if not 1 <= long_poll <= MAX_WAIT_SECONDS:
        raise UsageError(f"--long-poll must be 1-{MAX_WAIT_SECONDS} seconds")
    boto = runtime_client(target)
    state = SessionState(args.state_file or default_state_file())
    client = AgentClient(
        boto,
        runtime_arn=target.runtime_arn,
        session_id=_session_id(args, target, state, console),
        qualifier=target.qualifier,
        long_poll_seconds=long_poll,
        trace_context=environment_trace_context(),
    )
    return HANDLERS[args.command](args, client, out, console)


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Parse ``argv`` and run it; returns the exit code. Never raises: every failure is one line,
    plus one saying what to do where that is known."""
    out = out or sys.stdout
    # soft_wrap: a long path or message stays one line (the terminal wraps it, not rich).
    console = Console(file=err or sys.stderr, soft_wrap=True)
    prog = invoked_as()
    try:
        args = parser(prog).parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    args.prog = prog
    return _carried_out(args, out, console)


def _carried_out(args: argparse.Namespace, out: TextIO, console: Console) -> ExitCode:
    """Run the parsed command; every failure becomes one line (and a hint) and an exit code."""
    target: Target | None = None
    try:
        if args.command == "sessions":
            return _sessions(args, out, console)
        target = target_of(args)
        return run(args, target, out, console)
    except (UsageError, TargetError, StateFileError) as error:
        console.print(f"[red]error:[/red] {escape(str(error))}")
        return ExitCode.USAGE
    except AgentError as error:
        console.print(f"[red]{escape(error.code)}:[/red] {escape(error.message)}")
        _hint(console, advice(error, target=target, command=args.command))
        return ExitCode.FAILED
    except BotoCoreError as error:  # botocore refusing before any call, e.g. a broken profile
        console.print(f"[red]{type(error).__name__}:[/red] {escape(str(error))}")
        _hint(console, advice(error, target=target, command=args.command))
        return ExitCode.FAILED
    except KeyboardInterrupt:
        console.print("interrupted")
        return ExitCode.INTERRUPTED


def _hint(console: Console, hint: str | None) -> None:
    if hint is not None:
        console.print(f"hint: {hint}", markup=False, highlight=False)
