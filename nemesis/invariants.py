"""The README's guarantees, stated as checks of a recorded :class:`~nemesis.history.History`.

Each check is a pure function of the history that yields violations; a violation names its
invariant and carries the shortest part of the history that shows it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from nemesis.history import FINAL_STATUSES, Announcement, Call, History, ItemRun
from nemesis.kind import expected_value

STOP_GRACE_SECONDS = 10.0
"""The agent's default AGENT_STOP_GRACE_SECONDS: under AgentCore's 15 s between SIGTERM and SIGKILL."""
EXIT_SLACK_SECONDS = 1.0
"""An agent whose grace runs out exits from a timer at the grace itself; on a loaded machine the
timer and the exit take a little longer. Still far from the 15 s kill, where final writes are lost."""
EVIDENCE_LINES = 8
HEAL_GRACE_SECONDS = 5.0
"""After the faults end: time for hung connections and retries to clear."""


@dataclass(frozen=True)
class Violation:
    """One broken promise."""

    invariant: str
    task_id: str | None
    message: str
    evidence: list[str] = field(default_factory=list)

    def report(self, seed: int) -> str:
        """What a person reads: the seed, the invariant, what broke and the history that shows it."""
        head = f"VIOLATION seed {seed} [{self.invariant}]"
        if self.task_id:
            head += f" task {self.task_id}"
        return "\n".join([f"{head}: {self.message}", *(f"    {line}" for line in self.evidence)])


@dataclass(frozen=True)
class Started:
    """A start that answered a task id."""

    task_id: str
    call: Call

    @property
    def task_input(self) -> dict[str, Any]:
        value = self.call.request.get("input")
        return value if isinstance(value, dict) else {}


def started_tasks(history: History) -> dict[str, Started]:
    """Every task id a start answered, with the first start that answered it."""
    tasks: dict[str, Started] = {}
    for call in sorted(history.calls, key=lambda c: c.seq):
        task_id = (call.answer or {}).get("task_id")
        if call.action == "start_task" and call.error_code() is None and isinstance(task_id, str):
            tasks.setdefault(task_id, Started(task_id, call))
    return tasks


def _views_of(history: History) -> dict[str, list[tuple[Call, dict[str, Any]]]]:
    views: dict[str, list[tuple[Call, dict[str, Any]]]] = defaultdict(list)
    for call in sorted(history.calls, key=lambda c: c.started):
        for view in call.views():
            views[str(view.get("task_id"))].append((call, view))
    return views


def _evidence(calls: list[Call], focus: list[Call], task_id: str | None = None) -> list[str]:
    """The calls of one task, cut to the focus and what came just before it."""
    by_seq = {c.seq: c for c in [*calls, *focus]}
    ordered = sorted(by_seq.values(), key=lambda c: c.started)
    last = max(ordered.index(by_seq[c.seq]) for c in focus) if focus else len(ordered) - 1
    window = ordered[max(0, last - EVIDENCE_LINES + 1) : last + 1]
    return [c.brief(task_id) for c in window]


def _task_calls(history: History, task_id: str) -> list[Call]:
    return [
        c
        for c in history.calls
        if (c.answer or {}).get("task_id") == task_id
        or c.request.get("task_id") == task_id
        or any(v.get("task_id") == task_id for v in c.views())
    ]


def one_outcome(history: History) -> Iterator[Violation]:
    """Every start that answered a task id ends in exactly one final state after the heal phase
    (or SUSPENDED with a stated reason), is never answered TaskNotFound, and no final state, once
    answered, ever changes."""
    views = _views_of(history)
    for task_id, start in started_tasks(history).items():
        calls = _task_calls(history, task_id)
        missing = [c for c in calls if c.error_code() == "TaskNotFound" and c.started > start.call.ended]
        if missing:
            message = "a started task read TaskNotFound"
            yield Violation("one-outcome", task_id, message, _evidence(calls, missing[:1], task_id))
        seen = views.get(task_id, [])
        first_final: tuple[Call, dict[str, Any]] | None = None
        for call, view in seen:
            if first_final is None:
                if view.get("status") in FINAL_STATUSES:
                    first_final = (call, view)
                continue
            final_call, final = first_final
            if call.started <= final_call.ended:
                continue  # overlapping calls are not ordered
            if _outcome(view, final) != _outcome(final, view):
                message = f"answered {_outcome(final, view)} and later {_outcome(view, final)}"
                yield Violation(
                    "one-outcome", task_id, message, _evidence(calls, [final_call, call], task_id)
                )
                break
        last = seen[-1][1] if seen else None
        if first_final is None and not (last and last.get("status") == "SUSPENDED" and last.get("error")):
            status = last.get("status") if last else "never read"
            message = f"no final state after the heal phase (last seen: {status})"
            yield Violation("one-outcome", task_id, message, _evidence(calls, calls[-1:], task_id))


def _outcome(view: dict[str, Any], other: dict[str, Any]) -> tuple[Any, ...]:
    """What must not change: status, attempt, and (when ``other`` carries them too) the error code
    and the result; a list's summary carries neither."""
    error = (view.get("error") or {}).get("code") if "error" in other else None
    result = view.get("result") if "result" in other else None
    return (view.get("status"), view.get("attempt"), error, _plain(result))


def _plain(result: Any) -> Any:
    if isinstance(result, dict):
        return tuple(sorted((k, v) for k, v in result.items() if k != "pad"))
    return result


def correct_result(history: History) -> Iterator[Violation]:
    """A COMPLETED result equals the value computed from the input, and was produced by the
    attempt the record names (an older attempt's result never shows under a newer attempt)."""
    started = started_tasks(history)
    for call in history.calls:
        if call.action != "get_task_result":
            continue
        for view in call.views():
            start = started.get(str(view.get("task_id")))
            if start is None or view.get("status") != "COMPLETED" or "result" not in view:
                continue
            result = view["result"]
            items = start.task_input.get("items", [])
            want = expected_value(items)
            pad = int(start.task_input.get("pad", 0))
            if not isinstance(result, dict) or result.get("value") != want:
                got = result.get("value") if isinstance(result, dict) else result
                message = f"result {got!r}, computed from the input {want}"
            elif result.get("attempt") != view.get("attempt"):
                message = (
                    f"the record is attempt {view.get('attempt')}, "
                    f"its result is attempt {result.get('attempt')}'s"
                )
            elif len(str(result.get("pad", ""))) != pad:
                message = "the result's padding was cut"
            else:
                continue
            calls = _task_calls(history, start.task_id)
            yield Violation("correct-result", start.task_id, message, _evidence(calls, [call], start.task_id))


def resumable_work_completes(history: History) -> Iterator[Violation]:
    """``tally`` is resumable and never fails by itself: whatever ends its microVMs, it ends
    COMPLETED, or CANCELLED when a cancel was asked for; never LOST, never FAILED (except with
    ``ResumeLimit``, which the run's attempt budget keeps out of reach)."""
    cancelled = {str(c.request.get("task_id")) for c in history.calls if c.action == "cancel_task"}
    started = started_tasks(history)
    for task_id, seen in _views_of(history).items():
        if task_id not in started:
            continue
        for call, view in seen:
            status = view.get("status")
            code = (view.get("error") or {}).get("code")
            bad = status in ("LOST", "FAILED") and code != "ResumeLimit"
            if bad or (status == "CANCELLED" and task_id not in cancelled):
                calls = _task_calls(history, task_id)
                message = f"a resumable task that never fails ended {status} ({code})"
                yield Violation(
                    "resumable-work-completes", task_id, message, _evidence(calls, [call], task_id)
                )
                break


def items_at_most_twice(history: History) -> Iterator[Violation]:
    """An item runs again only when the attempt that ran it ended before recording it: at most
    once per attempt, and every run but the last is its attempt's last item (so at most twice when
    one attempt ended over it)."""
    runs: dict[str, list[ItemRun]] = defaultdict(list)
    for run in history.item_runs:
        runs[run.task_id].append(run)
    for task_id, task_runs in sorted(runs.items()):
        last_of = {run.attempt: run.index for run in task_runs}  # the side file is in run order
        by_item: dict[int, list[int]] = defaultdict(list)
        for run in task_runs:
            by_item[run.index].append(run.attempt)
        for index, attempts in sorted(by_item.items()):
            ordered = sorted(attempts)
            repeated = len(set(ordered)) != len(ordered)
            recorded = [a for a in ordered[:-1] if last_of[a] != index]
            if repeated or recorded:
                why = "twice in one attempt" if repeated else f"again after attempt {recorded[0]} recorded it"
                message = f"item {index} ran {len(ordered)} times (attempts {ordered}): {why}"
                calls = _task_calls(history, task_id)
                yield Violation(
                    "items-at-most-twice", task_id, message, _evidence(calls, calls[-1:], task_id)
                )


def announced(history: History) -> Iterator[Violation]:
    """Each final state and each suspension answered is announced at least once: an event, and
    the callback of a task that has a task token."""
    events = {
        (n.task_id, n.attempt, n.status) for n in history.announcements if n.accepted and n.channel == "event"
    }
    # A callback names only its task token (the stand-in files it under the token).
    callbacks = {n.task_id for n in history.announcements if n.accepted and n.channel == "callback"}
    started = started_tasks(history)
    reached = {
        (task_id, view.get("attempt"), str(view.get("status")))
        for task_id, seen in _views_of(history).items()
        for _, view in seen
        if task_id in started and (view.get("status") in FINAL_STATUSES or view.get("status") == "SUSPENDED")
    }
    for task_id, attempt, status in sorted(reached, key=str):
        missing = [] if (task_id, attempt, status) in events else ["event"]
        token = (started[task_id].call.request.get("callback") or {}).get("task_token")
        if status in FINAL_STATUSES and token and token not in callbacks:
            missing.append("callback")
        for channel in missing:
            calls = _task_calls(history, task_id)
            message = f"{status} (attempt {attempt}) was never announced by {channel}"
            yield Violation("announced", task_id, message, _evidence(calls, calls[-1:], task_id))


def announcements_agree(history: History) -> Iterator[Violation]:
    """Every announcement of one (task, attempt, status) carries one id and the same content."""
    notes: dict[tuple[str, str, int | None, str], list[Announcement]] = defaultdict(list)
    for note in history.announcements:
        notes[(note.channel, note.task_id, note.attempt, note.status)].append(note)
    for (channel, task_id, attempt, status), same in sorted(notes.items(), key=str):
        ids = {n.event_id for n in same}
        contents = {repr(sorted(n.content.items())) for n in same}
        if len(ids) > 1 or len(contents) > 1:
            message = f"{len(same)} {channel} announcements of {status} attempt {attempt} differ"
            yield Violation("announcements-agree", task_id, message, [repr(n) for n in same[:4]])


def same_task_per_token(history: History) -> Iterator[Violation]:
    """Starts with the same ``client_token`` in one session answer the same task."""
    answers: dict[tuple[str, str], dict[str, Call]] = defaultdict(dict)
    for call in history.calls:
        token = call.request.get("client_token")
        task_id = (call.answer or {}).get("task_id")
        if call.action == "start_task" and token and isinstance(task_id, str):
            answers[(call.session, str(token))].setdefault(task_id, call)
    for (_, token), by_task in sorted(answers.items()):
        if len(by_task) > 1:
            message = f"client_token {token} answered {len(by_task)} different tasks"
            yield Violation("same-task-per-token", None, message, [c.brief() for c in by_task.values()])


def serves_after_heal(history: History) -> Iterator[Violation]:
    """Once the faults are over (and a grace for hung connections to clear), every call is served:
    nothing answers ``StorageUnavailable`` with the store healthy (one bad record included)."""
    if history.heal_started is None:
        return
    since = history.heal_started + HEAL_GRACE_SECONDS
    for call in history.calls:
        if call.started > since and call.error_code() == "StorageUnavailable":
            into = call.started - history.heal_started
            message = f"{call.action} answered StorageUnavailable {into:.1f}s into the heal"
            yield Violation("serves-after-heal", call.request.get("task_id"), message, [call.brief()])


def bounded_shutdown(history: History) -> Iterator[Violation]:
    """A SIGTERMed agent exits within its stop grace, whatever the store does."""
    for stop in history.shutdowns:
        if stop.exited_after is None or stop.exited_after > STOP_GRACE_SECONDS + EXIT_SLACK_SECONDS:
            took = "never exited" if stop.exited_after is None else f"took {stop.exited_after:.1f}s"
            message = f"vm{stop.vm} {took} after SIGTERM at {stop.signalled_at:.2f}s"
            yield Violation("bounded-shutdown", None, message)


def no_server_error(history: History) -> Iterator[Violation]:
    """No answer is a 5xx, a body that is not JSON, or a traceback."""
    for call in history.calls:
        if call.transport_error is not None:
            continue
        bad = call.status is not None and call.status >= 500
        text = call.raw or ""
        if bad or call.answer is None or "Traceback" in text:
            yield Violation("no-server-error", None, f"HTTP {call.status}", [call.brief()])


INVARIANTS: dict[str, Callable[[History], Iterator[Violation]]] = {
    "one-outcome": one_outcome,
    "correct-result": correct_result,
    "resumable-work-completes": resumable_work_completes,
    "items-at-most-twice": items_at_most_twice,
    "announced": announced,
    "announcements-agree": announcements_agree,
    "same-task-per-token": same_task_per_token,
    "serves-after-heal": serves_after_heal,
    "bounded-shutdown": bounded_shutdown,
    "no-server-error": no_server_error,
}
"""Every guarantee the checker holds a history to, by name."""


def check(history: History) -> list[Violation]:
    """Every violation of every invariant in ``history``."""
    return [violation for rule in INVARIANTS.values() for violation in rule(history)]
