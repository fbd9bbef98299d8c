"""The nemesis's checker on small hand-made histories: each invariant passes a history that keeps
its promise and names the task of one that breaks it."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from nemesis.history import Announcement, Call, History, ItemRun, Shutdown
from nemesis.invariants import INVARIANTS, Violation, check

pytestmark = pytest.mark.unit

SESSION = "s" * 40
TASK = "0b9a2a4e-0d0e-4f4e-8a55-7c2b4a9f5d11"
ITEMS = [2, 3]
_seq = itertools.count(1)


def call(request: dict[str, Any], answer: dict[str, Any] | None, at: float, status: int = 200) -> Call:
    return Call(next(_seq), "c0", SESSION, request, at, at + 0.1, status, answer)


def start(at: float = 0.0, **extra: Any) -> Call:
    request = {"action": "start_task", "kind": "tally", "input": {"items": ITEMS, "pause": 0.1}, **extra}
    return call(request, {"task_id": TASK, "status": "RUNNING"}, at)


def get(at: float, status: str, attempt: int = 1, **fields: Any) -> Call:
    view = {"task_id": TASK, "status": status, "attempt": attempt, **fields}
    return call({"action": "get_task_result", "task_id": TASK}, view, at)


def event(status: str, attempt: int = 1, event_id: str | None = "e1", **content: Any) -> Announcement:
    detail = {"task_id": TASK, "status": status, "attempt": attempt, **content}
    return Announcement(1.0, "event", TASK, attempt, status, event_id, detail, accepted=True)


def history(*calls: Call, notes: tuple[Announcement, ...] = (), runs: tuple[ItemRun, ...] = ()) -> History:
    made = History(seed=1)
    made.calls.extend(calls)
    made.announcements.extend(notes)
    made.item_runs.extend(runs)
    return made


def completed(at: float, attempt: int = 1, value: int = 13, made_by: int | None = None) -> Call:
    result = {"value": value, "attempt": attempt if made_by is None else made_by, "pad": ""}
    return get(at, "COMPLETED", attempt, result=result)


def names(violations: list[Violation]) -> set[str]:
    return {v.invariant for v in violations}


def test_a_clean_history_has_no_violation() -> None:
    good = history(
        start(),
        get(1, "RUNNING"),
        completed(2),
        notes=(event("COMPLETED"),),
        runs=(ItemRun(TASK, 0, 1, 10), ItemRun(TASK, 1, 1, 10)),
    )
    assert check(good) == []


def test_a_final_state_that_changes_is_a_violation() -> None:
    notes = (event("COMPLETED"), event("COMPLETED", 2))
    found = check(history(start(), completed(1), completed(2, attempt=2), notes=notes))
    assert names(found) == {"one-outcome"}
    assert found[0].task_id == TASK
    assert "('COMPLETED', 1," in found[0].message and "('COMPLETED', 2," in found[0].message


def test_a_task_that_never_ends_is_a_violation_unless_suspended_with_a_reason() -> None:
    assert names(check(history(start(), get(1, "RUNNING")))) == {"one-outcome"}
    reason = {"code": "UnknownKind", "message": "tally is not registered in this version"}
    suspended = history(start(), get(1, "SUSPENDED", error=reason), notes=(event("SUSPENDED"),))
    assert check(suspended) == []


def test_a_started_task_read_as_not_found_is_a_violation() -> None:
    gone = call({"action": "get_task_result", "task_id": TASK}, {"error": {"code": "TaskNotFound"}}, 1)
    assert "one-outcome" in names(check(history(start(), gone, completed(2), notes=(event("COMPLETED"),))))


def test_a_wrong_or_stale_result_is_a_violation() -> None:
    wrong = check(history(start(), completed(1, value=14), notes=(event("COMPLETED"),)))
    assert names(wrong) == {"correct-result"}
    stale = check(history(start(), completed(1, attempt=2, made_by=1), notes=(event("COMPLETED", 2),)))
    assert names(stale) == {"correct-result"}
    assert "attempt 1's" in stale[0].message


def test_resumable_work_that_never_fails_must_not_end_lost_failed_or_unasked_cancelled() -> None:
    lost = check(history(start(), get(1, "LOST", error={"code": "TaskLost"}), notes=(event("LOST"),)))
    assert names(lost) == {"resumable-work-completes"}
    failed = get(1, "FAILED", error={"code": "TaskFailed"})
    assert names(check(history(start(), failed, notes=(event("FAILED"),)))) == {"resumable-work-completes"}
    cancelled = get(1, "CANCELLED", error={"code": "Cancelled"})
    assert names(check(history(start(), cancelled, notes=(event("CANCELLED"),)))) == {
        "resumable-work-completes"
    }
    asked = call({"action": "cancel_task", "task_id": TASK}, cancelled.answer, 0.5)
    assert check(history(start(), asked, notes=(event("CANCELLED"),))) == []
    limit = get(1, "FAILED", error={"code": "ResumeLimit"})
    assert check(history(start(), limit, notes=(event("FAILED"),))) == []


def test_an_item_runs_again_only_when_its_attempt_ended_over_it() -> None:
    done = (event("COMPLETED"),)
    # attempt 1 ran item 0 and ended before recording it; attempt 2 ran it again: allowed
    again = (ItemRun(TASK, 0, 1, 10), ItemRun(TASK, 0, 2, 11), ItemRun(TASK, 1, 2, 11))
    assert check(history(start(), completed(1), notes=done, runs=again)) == []
    # item 1 was the last item of attempts 1 and 2, both ended over it: a third run is allowed
    ended_twice = (
        ItemRun(TASK, 0, 1, 10),
        ItemRun(TASK, 1, 1, 10),
        ItemRun(TASK, 1, 2, 11),
        ItemRun(TASK, 1, 3, 12),
    )
    assert check(history(start(), completed(1), notes=done, runs=ended_twice)) == []
    # attempt 1 went on to item 1, so item 0 was recorded: running it again is a violation
    recorded = (ItemRun(TASK, 0, 1, 10), ItemRun(TASK, 1, 1, 10), ItemRun(TASK, 0, 2, 11))
    found = check(history(start(), completed(1), notes=done, runs=recorded))
    assert names(found) == {"items-at-most-twice"}
    assert "after attempt 1 recorded it" in found[0].message
    same_attempt = (ItemRun(TASK, 1, 1, 10), ItemRun(TASK, 1, 1, 10))
    assert names(check(history(start(), completed(1), notes=done, runs=same_attempt))) == {
        "items-at-most-twice"
    }


def test_a_final_state_or_suspension_never_announced_is_a_violation() -> None:
    assert names(check(history(start(), completed(1)))) == {"announced"}
    suspended = check(
        history(start(), get(1, "SUSPENDED"), completed(2, attempt=2), notes=(event("COMPLETED", 2),))
    )
    assert [v.message for v in suspended] == ["SUSPENDED (attempt 1) was never announced by event"]
    refused = Announcement(1.0, "event", TASK, 1, "COMPLETED", "e1", {}, accepted=False)
    assert names(check(history(start(), completed(1), notes=(refused,)))) == {"announced"}


def test_a_task_token_gets_its_callback() -> None:
    token = {"task_token": "token-1"}
    without = history(start(callback=token), completed(1), notes=(event("COMPLETED"),))
    assert [v.message for v in check(without)] == ["COMPLETED (attempt 1) was never announced by callback"]
    callback = Announcement(1.0, "callback", "token-1", 1, "COMPLETED", "e1", {}, accepted=True)
    assert check(history(start(callback=token), completed(1), notes=(event("COMPLETED"), callback))) == []


def test_announcements_of_one_state_must_agree() -> None:
    twice = (event("COMPLETED", event_id="e1"), event("COMPLETED", event_id="e2"))
    assert names(check(history(start(), completed(1), notes=twice))) == {"announcements-agree"}


def test_one_client_token_answering_two_tasks_is_a_violation() -> None:
    first = start(client_token="t1")
    other = call(
        {**first.request}, {"task_id": "5c0e1b7a-2f0e-4a4e-9d55-7c2b4a9f5d12", "status": "RUNNING"}, 1
    )
    assert "same-task-per-token" in names(check(history(first, other, completed(2))))


def test_storage_unavailable_after_the_heal_is_a_violation() -> None:
    outage = call({"action": "list_tasks"}, {"error": {"code": "StorageUnavailable", "message": ""}}, 3)
    late = call({"action": "list_tasks"}, {"error": {"code": "StorageUnavailable", "message": ""}}, 9)
    made = history(outage, late)
    made.heal_started = 2.0
    found = check(made)
    assert names(found) == {"serves-after-heal"}
    assert len(found) == 1 and "7.0s into the heal" in found[0].message


def test_a_slow_or_stuck_shutdown_is_a_violation() -> None:
    made = history()
    made.shutdowns.extend(
        [Shutdown(1, 1.0, 2.0), Shutdown(2, 1.0, 12.5), Shutdown(3, 1.0, None), Shutdown(4, 1.0, 11.5)]
    )
    found = check(made)
    assert names(found) == {"bounded-shutdown"}
    assert len(found) == 3


def test_an_exit_just_after_the_grace_ran_out_is_not_a_violation() -> None:
    """DynamoDB seed 17, on a machine at load 8: the grace ran out at 10 s and the exit followed
    a few milliseconds later."""
    made = history()
    made.shutdowns.append(Shutdown(39, 117.59, 10.04))
    assert check(made) == []


def test_a_server_error_or_traceback_is_a_violation() -> None:
    crashed = Call(
        next(_seq), "c0", SESSION, {"action": "list_tasks"}, 1, 1.1, 500, None, "Internal Server Error"
    )
    traceback = Call(next(_seq), "c0", SESSION, {"action": "list_tasks"}, 1, 1.1, 200, None, "Traceback ...")
    lost = Call(
        next(_seq), "c0", SESSION, {"action": "list_tasks"}, 1, 1.1, transport_error="ConnectionRefused"
    )
    assert len(check(history(crashed, traceback, lost))) == 2


def test_every_invariant_is_named_in_the_readme() -> None:
    from pathlib import Path  # noqa: PLC0415

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert [name for name in INVARIANTS if f"`{name}`" not in readme] == []
