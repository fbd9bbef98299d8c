"""``python -m emulator.demo``: the seed post's timeline, end to end, with fast timers; then a task
that outlives its microVM.

start -> RUNNING (ping HealthyBusy) -> COMPLETED (Healthy) -> idle termination (memory and
disk gone) -> a poll with the same session id starts a new microVM and still gets the result
from the store -> a call without a session id lands in another microVM that cannot see the task.

Then, with a maximum lifetime shorter than the task: list_kinds names the kinds and which are
resumable, start_task starts a ``sleep`` longer than any microVM lives, each microVM ends at its
max lifetime with the task SUSPENDED at its checkpoint (read from the shared store), and the next
poll's microVM resumes it as the next attempt, until it completes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from agentcore_async.client.api import AgentClient, AgentError, boto_client
from agentcore_async.client.models import TaskStatus
from agentcore_async.client.session_ids import new_session_id
from agentcore_async.client.session_table import fetch_session_table, microvms
from agentcore_async.client.target import Target
from agentcore_async.contract import SQLITE_RECORD_QUERY
from emulator.config import DEFAULT_RUNTIME_ARN, EmulatorConfig, Lifecycle
from emulator.process import SQLITE_FILE, free_port
from emulator.server import BackgroundEmulator

Row = dict[str, Any]


class Timeline:
    """Prints numbered steps with the time since the demo began."""

    def __init__(self) -> None:
        self._began = time.monotonic()
        self._step = 0

    def say(self, text: str) -> None:
        """Print one step."""
        self._step += 1
        print(f"[{time.monotonic() - self._began:5.1f}s] {self._step}. {text}", flush=True)


def wait_for_row(url: str, session_id: str, test: Callable[[list[Row]], Row | None], timeout: float) -> Row:
    """Poll the session table until ``test`` picks a row of ``session_id``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = test(microvms(fetch_session_table(url), session_id))
        if row is not None:
            return row
        time.sleep(0.1)
    raise TimeoutError(f"session {session_id} did not reach the expected state in {timeout:g}s")


def _ping_is(status: str) -> Callable[[list[Row]], Row | None]:
    def test(rows: list[Row]) -> Row | None:
        live = [row for row in rows if row["state"] == "running" and row["ping_status"] == status]
        return live[-1] if live else None

    return test


def _ended(rows: list[Row]) -> Row | None:
    ended = [row for row in rows if row["state"] == "ended"]
    return ended[-1] if ended else None


def demo_config(*, idle: float, max_lifetime: float, store_dir: Path) -> EmulatorConfig:
    """The demos' emulator: its timers, pings every 0.5 s, a 2 s stop grace, quiet agents and one
    shared SQLite store in ``store_dir``."""
    return EmulatorConfig(
        port=free_port(),
        lifecycle=Lifecycle(idle_timeout=idle, max_lifetime=max_lifetime),
        fast_timers=True,
        ping_interval=0.5,
        stop_grace=2,
        store_dir=store_dir,
        agent_output="quiet",
    ).validate()


def stored_task(store_dir: Path, session_id: str, task_id: str) -> dict[str, Any] | None:
    """The task's record as the shared store holds it, read-only and without an invocation: any
    call in the session starts its next microVM, which resumes a suspended task at once."""
    uri = (store_dir / SQLITE_FILE).resolve().as_uri() + "?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        row = db.execute(SQLITE_RECORD_QUERY, (session_id, task_id)).fetchone()
    record: dict[str, Any] | None = None if row is None else json.loads(row[0])
    return record


def _ended_vm(number: int) -> Callable[[list[Row]], Row | None]:
    def test(rows: list[Row]) -> Row | None:
        return next((row for row in rows if row["microvm"] == number and row["state"] == "ended"), None)

    return test


def _kinds_line(kinds: list[dict[str, Any]]) -> str:
    return ", ".join(
        f"{kind.get('name')} ({'resumable' if kind.get('resumable') else 'not resumable'})" for kind in kinds
    )


def run_demo(*, duration: float, idle: float, store_dir: Path) -> None:
    """Run the timeline against an in-process emulator; raises if any step goes wrong."""
    say = Timeline().say
    with BackgroundEmulator(demo_config(idle=idle, max_lifetime=120, store_dir=store_dir)) as emulator:
        target = Target(runtime_arn=DEFAULT_RUNTIME_ARN, endpoint_url=emulator.url)
        boto = boto_client(target)
        session_id = new_session_id()
        client = AgentClient(
            boto, runtime_arn=target.runtime_arn, session_id=session_id, long_poll_seconds=20
        )
        say(f"emulator on {emulator.url}: idle timeout {idle:g}s, ping every 0.5s; session {session_id}")

        began = time.monotonic()
        client.list()
        say(f"first call boots microVM #1 for the session ({time.monotonic() - began:.1f}s cold start)")

        began = time.monotonic()
        task_id = client.start(duration)
        first = client.result(task_id)
        elapsed = time.monotonic() - began
        say(f"start a {duration:g}s task -> {task_id} {first.status} (answered in {elapsed:.2f}s)")

        row = wait_for_row(emulator.url, session_id, _ping_is("HealthyBusy"), 10)
        say(f"ping HealthyBusy: microVM #{row['microvm']} (pid {row['pid']}) is kept alive while it runs")

        done = client.wait(task_id, duration + 30)
        say(f"wait -> {done.status}: {done.result!r}")
        row = wait_for_row(emulator.url, session_id, _ping_is("Healthy"), 10)
        say(f"ping Healthy: the idle countdown of microVM #{row['microvm']} starts ({idle:g}s)")

        gone = wait_for_row(emulator.url, session_id, _ended, idle + 15)
        say(
            f"microVM #{gone['microvm']} terminated, reason {gone['end_reason']}, age"
            f" {gone['age_seconds']:.1f}s: its memory and disk are gone"
        )

        again = client.result(task_id)
        rows = microvms(fetch_session_table(emulator.url), session_id)
        fresh = rows[-1]
        say(
            f"poll with the same session id -> new microVM #{fresh['microvm']} (pid {fresh['pid']}) answers"
            f" from the store: {again.status} {again.result!r}"
        )
        if again.status != done.status or fresh["microvm"] == gone["microvm"]:
            raise RuntimeError("the result did not survive the microVM")

        stranger = AgentClient(boto, runtime_arn=target.runtime_arn, session_id=None)
        try:
            stranger.result(task_id)
        except AgentError as error:
            say(f"a call without session id lands in a new microVM that cannot see the task: {error.message}")
        else:
            raise RuntimeError("a call in another session could read the task")
    say("emulator stopped; every microVM terminated")


def run_outlive_demo(*, duration: float, lifetime: float, store_dir: Path) -> None:
    """A resumable task longer than a microVM's max lifetime completes across several microVMs.

    While a microVM lives the demo makes no call in its session, so the end always comes at its
    max lifetime with the task in hand, and what the store holds after it is what the agent wrote
    on SIGTERM: the task SUSPENDED at its last checkpoint.
    """
    say = Timeline().say
    config = demo_config(idle=lifetime, max_lifetime=lifetime, store_dir=store_dir)
    with BackgroundEmulator(config) as emulator:
        target = Target(runtime_arn=DEFAULT_RUNTIME_ARN, endpoint_url=emulator.url)
        session_id = new_session_id()
        client = AgentClient(boto_client(target), runtime_arn=target.runtime_arn, session_id=session_id)
        say(f"a new emulator: every microVM ends after {lifetime:g}s (max lifetime); session {session_id}")
        say(f"list_kinds: {_kinds_line(client.kinds())}")
        task_id = client.start_task("sleep", {"duration": duration})
        say(f"start_task sleep of {duration:g}s -> {task_id}: longer than any one microVM lives")
        suspended = 0
        while True:
            task = client.result(task_id)  # after a microVM ended: the next one, which resumes it
            rows = microvms(fetch_session_table(emulator.url), session_id)
            vm = f"the session's microVM {len(rows)}"
            say(f"{vm}: {task.status}, attempt {task.attempt}, {task.progress or 0:.0%} done")
            if task.status.finished:
                break
            gone = wait_for_row(emulator.url, session_id, _ended_vm(rows[-1]["microvm"]), lifetime + 15)
            left = stored_task(store_dir, session_id, task_id) or {}
            suspended += left.get("status") == TaskStatus.SUSPENDED.value
            say(
                f"{vm} ended ({gone['end_reason']}); the store holds the task {left.get('status')},"
                f" attempt {left.get('attempt')}, {left.get('progress') or 0:.0%} done"
            )
        ended = [row for row in rows if row["end_reason"] == "max_lifetime"]
        say(
            f"{task.status} after {task.attempt} attempts: {task.result!r}; {len(rows)} microVMs,"
            f" {len(ended)} ended at their max lifetime, {suspended} of them suspending the task"
            " at its checkpoint for the next to resume"
        )
        if task.status is not TaskStatus.COMPLETED or suspended < 1 or (task.attempt or 0) < 2:
            raise RuntimeError("the task did not outlive its microVM")
    say("emulator stopped")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse flags and run the demo; exit 0 when every step behaved."""
    p = argparse.ArgumentParser(prog="python -m emulator.demo", description=__doc__)
    p.add_argument("--duration", type=float, default=4.0, help="task length in seconds (default 4)")
    p.add_argument("--idle", type=float, default=3.0, help="idle timeout in seconds (default 3)")
    p.add_argument("--long", type=float, default=15.0, help="the long task's length in seconds (default 15)")
    p.add_argument("--lifetime", type=float, default=6.0, help="its microVMs' max lifetime (default 6)")
    args = p.parse_args(argv)
    # Agent processes inherit these: heartbeats and the lease scaled to the fast timers.
    os.environ.setdefault("AGENT_HEARTBEAT_SECONDS", "0.5")
    os.environ.setdefault("AGENT_LEASE_SECONDS", "3")
    with tempfile.TemporaryDirectory(prefix="demo-store-") as store:
        try:
            run_demo(duration=args.duration, idle=args.idle, store_dir=Path(store))
            print()
            run_outlive_demo(duration=args.long, lifetime=args.lifetime, store_dir=Path(store))
        except (AgentError, RuntimeError, TimeoutError) as error:
            print(f"demo failed: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
