"""``python -m agentcore_async.client smoke``: a short end-to-end check of a runtime after a deploy.

The same checks run against the emulator and a deployed stage. They use two fresh sessions of
their own (never the saved one) and stop both at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, TextIO

from agentcore_async.client.api import AgentClient, WaitTimeout
from agentcore_async.client.errors import AgentError, TaskNotFound
from agentcore_async.client.models import TaskStatus
from agentcore_async.client.session_ids import new_session_id

CANCELLED_TASK_SECONDS: Final = 60.0
"""Long enough that the second task is still running when it is cancelled."""
DETAIL_CHARS: Final = 100


class CheckFailed(Exception):
    """A check saw something other than what it expects."""


@dataclass
class SmokeRun:
    """What the checks share: one client per session, and the first check's task."""

    connect: Callable[[str], AgentClient]
    task_seconds: float = 2.0
    timeout: float = 120.0
    session_id: str = field(default_factory=lambda: new_session_id("smoke"))
    other_session_id: str = field(default_factory=lambda: new_session_id("smoke"))
    task_id: str | None = None
    reached: set[str] = field(default_factory=set)
    """Sessions that got at least one answer (and so have a microVM to stop)."""
    _clients: dict[str, AgentClient] = field(default_factory=dict)

    def client(self, session_id: str) -> AgentClient:
        """The client of ``session_id`` (one per session)."""
        if session_id not in self._clients:
            self._clients[session_id] = self.connect(session_id)
        return self._clients[session_id]

    @property
    def main(self) -> AgentClient:
        """The smoke session's client."""
        return self.client(self.session_id)

    def started_task(self) -> str:
        """The task the first check started."""
        if self.task_id is None:
            raise CheckFailed("needs the task of the `start` check, which did not start")
        return self.task_id


@dataclass(frozen=True)
class Outcome:
    """One check's result and how long it took."""

    name: str
    passed: bool
    seconds: float
    detail: str

    def line(self) -> str:
        """``PASS  start      0.12s  task ...``."""
        verdict = "PASS" if self.passed else "FAIL"
        return f"{verdict}  {self.name:<9}  {self.seconds:6.2f}s  {self.detail}"


def check_start(run: SmokeRun) -> str:
    """A short task starts and gets an id at once."""
    run.task_id = run.main.start(run.task_seconds)
    run.reached.add(run.session_id)
    return f"task {run.task_id} ({run.task_seconds:g}s)"


def check_wait(run: SmokeRun) -> str:
    """Waiting for it ends with COMPLETED and a result."""
    task_id = run.started_task()
    done = run.main.wait(task_id, run.timeout)
    if done.status is not TaskStatus.COMPLETED:
        raise CheckFailed(f"task {task_id} ended {done.status}: {done.error}")
    if done.result is None and done.result_url is None:
        raise CheckFailed(f"task {task_id} COMPLETED without a result")
    return f"COMPLETED: {done.result if done.result is not None else done.result_url}"


def check_list(run: SmokeRun) -> str:
    """The session's list holds the task."""
    task_id = run.started_task()
    listed = [task.get("task_id") for task in run.main.list(limit=50).get("tasks", [])]
    if task_id not in listed:
        raise CheckFailed(f"task {task_id} is not among the session's {len(listed)} listed tasks")
    return f"{len(listed)} task(s) listed, {task_id} among them"


def check_cancel(run: SmokeRun) -> str:
    """A second, long task is cancelled and ends CANCELLED."""
    task_id = run.main.start(CANCELLED_TASK_SECONDS)
    run.reached.add(run.session_id)
    run.main.cancel(task_id)
    done = run.main.wait(task_id, run.timeout)
    if done.status is not TaskStatus.CANCELLED:
        raise CheckFailed(f"task {task_id} ended {done.status} after cancel")
    return f"task {task_id} CANCELLED"


def check_isolation(run: SmokeRun) -> str:
    """Another session can neither read nor list the task."""
    task_id = run.started_task()
    other = run.client(run.other_session_id)
    try:
        seen = other.result(task_id)
    except TaskNotFound:
        run.reached.add(run.other_session_id)
    else:
        run.reached.add(run.other_session_id)
        raise CheckFailed(f"another session read task {task_id}: {seen.status}")
    listed = [task.get("task_id") for task in other.list(limit=50).get("tasks", [])]
    if task_id in listed:
        raise CheckFailed(f"another session lists task {task_id}")
    return "another session gets TaskNotFound and does not list the task"


CHECKS: Final[tuple[tuple[str, Callable[[SmokeRun], str]], ...]] = (
    ("start", check_start),
    ("wait", check_wait),
    ("list", check_list),
    ("cancel", check_cancel),
    ("isolation", check_isolation),
)


def run_checks(run: SmokeRun, out: TextIO, *, clock: Callable[[], float] = time.monotonic) -> list[Outcome]:
    """Run every check in order, writing one line per check to ``out`` as it ends."""
    outcomes: list[Outcome] = []
    for name, check in CHECKS:
        began = clock()
        try:
            detail, passed = check(run), True
        except CheckFailed as failure:
            detail, passed = str(failure), False
        except AgentError as error:
            detail, passed = f"{error.code}: {error.message}", False
        except WaitTimeout as timeout:
            seen = timeout.last.status if timeout.last else "no answer"
            detail, passed = f"not finished after {run.timeout:g}s (last seen: {seen})", False
        if len(detail) > DETAIL_CHARS:
            detail = detail[: DETAIL_CHARS - 1] + "…"
        outcome = Outcome(name=name, passed=passed, seconds=clock() - began, detail=detail)
        out.write(outcome.line() + "\n")
        out.flush()
        outcomes.append(outcome)
    return outcomes


def stop_sessions(run: SmokeRun) -> list[str]:
    """Stop the microVMs the run created; returns a note for each that could not be stopped."""
    notes = []
    for session_id in sorted(run.reached):
        try:
            run.client(session_id).stop_session()
        except AgentError as error:
            notes.append(f"could not stop session {session_id}: {error.code}: {error.message}")
    return notes


def summary(outcomes: list[Outcome]) -> str:
    """``smoke: N passed, M failed``."""
    passed = sum(outcome.passed for outcome in outcomes)
    return f"smoke: {passed} passed, {len(outcomes) - passed} failed"
