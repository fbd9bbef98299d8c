"""``agentcore_async.kinds.run_kind``: a kind runs in-process with a recording context, on virtual
time, and ends, resumes or is cancelled when the test says, as the agent would do it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from agent.kinds.sleep import KIND as SLEEP
from agentcore_async.kinds import InputProblem, StartLimits, TaskContext, TaskError, TaskKind, run_kind

pytestmark = pytest.mark.unit


class Steps(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    steps: int
    seconds: float = 0.0


async def count_steps(ctx: TaskContext, task_input: Steps) -> dict[str, Any]:
    done: int = ctx.resume_state["done"] if ctx.resume_state else 0
    seen: list[int] = ctx.resume_state["seen"] if ctx.resume_state else []
    while done < task_input.steps:
        await asyncio.sleep(task_input.seconds)
        done += 1
        seen.append(done)  # the same list object each time: checkpoints must not alias it
        ctx.progress(done / task_input.steps, f"{done} of {task_input.steps}")
        await ctx.checkpoint({"done": done, "seen": seen})
    return {"done": done, "attempt": ctx.attempt, "left": ctx.remaining_seconds}


STEPS = TaskKind(name="steps", description="count", input_model=Steps, run=count_steps, resumable=True)


def test_a_completed_run_returns_the_result_with_progress_and_checkpoints() -> None:
    run = run_kind(STEPS, {"steps": 3})
    assert run.status == "COMPLETED"
    assert run.result == {"done": 3, "attempt": 1, "left": 28800.0}
    assert [(p.fraction, p.message) for p in run.progress] == [
        (0.3333, "1 of 3"),
        (0.6667, "2 of 3"),
        (1.0, "3 of 3"),
    ]
    assert run.checkpoints == [
        {"done": 1, "seen": [1]},
        {"done": 2, "seen": [1, 2]},
        {"done": 3, "seen": [1, 2, 3]},
    ]


def test_virtual_time_runs_hours_at_once_and_remaining_seconds_counts_them() -> None:
    began = time.monotonic()
    run = run_kind(STEPS, {"steps": 3, "seconds": 3600}, lifetime_seconds=28800)
    assert time.monotonic() - began < 5
    assert run.status == "COMPLETED"
    assert run.seconds == pytest.approx(3 * 3600)
    assert run.result["left"] == pytest.approx(28800 - 3 * 3600)
    assert [p.at for p in run.progress] == pytest.approx([3600, 7200, 10800])


def test_a_microvm_ending_after_a_checkpoint_suspends_and_the_next_attempt_resumes_there() -> None:
    first = run_kind(STEPS, {"steps": 5}, stop_after_checkpoints=2)
    assert first.status == "SUSPENDED"
    assert first.result is None
    assert first.last_checkpoint == {"done": 2, "seen": [1, 2]}

    second = run_kind(STEPS, {"steps": 5}, resume_state=first.last_checkpoint)
    assert second.status == "COMPLETED"
    assert second.result["attempt"] == 2
    assert [c["done"] for c in second.checkpoints] == [3, 4, 5]  # nothing done twice


def test_the_max_lifetime_ends_the_microvm_on_the_virtual_clock() -> None:
    run = run_kind(STEPS, {"steps": 10, "seconds": 100}, lifetime_seconds=350)
    assert run.status == "SUSPENDED"
    assert run.seconds == pytest.approx(350)
    assert run.last_checkpoint["done"] == 3


def test_a_kind_that_is_not_resumable_reads_lost_when_its_microvm_ends() -> None:
    once = TaskKind(name="once", description="", input_model=Steps, run=count_steps)
    run = run_kind(once, {"steps": 5, "seconds": 1}, stop_after_seconds=2.5)
    assert (run.status, run.last_checkpoint["done"]) == ("LOST", 2)


def test_stopping_is_seen_by_the_kind_so_it_can_write_a_last_checkpoint() -> None:
    """The bundled ``sleep`` checkpoints the seconds done when its microVM ends between beats."""
    run = run_kind(SLEEP, {"duration": 60}, stop_after_seconds=12.5, checkpoint_interval=5)
    assert run.status == "SUSPENDED"
    assert [c["done"] for c in run.checkpoints] == pytest.approx([5, 10, 12.5])
    resumed = run_kind(SLEEP, {"duration": 60}, resume_state=run.last_checkpoint, checkpoint_interval=5)
    assert resumed.status == "COMPLETED"
    assert resumed.seconds == pytest.approx(47.5)


def test_a_cancel_reads_cancelled_and_the_kind_sees_it() -> None:
    seen: list[bool] = []

    async def notice(ctx: TaskContext, task_input: Steps) -> None:
        try:
            await asyncio.sleep(1000)
        finally:
            seen.append(ctx.cancelled)

    kind = TaskKind(name="wait", description="", input_model=Steps, run=notice)
    run = run_kind(kind, {"steps": 1}, cancel_after_seconds=10)
    assert (run.status, seen) == ("CANCELLED", [True])
    assert run.seconds == pytest.approx(10)
    assert run_kind(STEPS, {"steps": 5}, cancel_after_checkpoints=1).checkpoints == [{"done": 1, "seen": [1]}]


def test_the_kinds_task_error_is_raised_with_its_code() -> None:
    async def refuse(ctx: TaskContext, task_input: Steps) -> None:
        raise TaskError("TooMany", f"{task_input.steps} steps")

    with pytest.raises(TaskError) as raised:
        run_kind(TaskKind(name="refuse", description="", input_model=Steps, run=refuse), {"steps": 9})
    assert (raised.value.code, raised.value.message) == ("TooMany", "9 steps")


def test_input_is_validated_as_a_start_validates_it_and_check_runs_with_limits() -> None:
    with pytest.raises(ValidationError):
        run_kind(STEPS, {"steps": "3"})  # strict: a string is not an int
    with pytest.raises(ValidationError):
        run_kind(STEPS, {"steps": 3, "extra": 1})
    limits = StartLimits(max_seconds=30, over_time="exceeds 30s", max_result_bytes=100)
    with pytest.raises(InputProblem, match="duration: exceeds 30s"):
        run_kind(SLEEP, {"duration": 60}, limits=limits)


def test_state_that_is_not_json_is_refused_by_name() -> None:
    async def bad(ctx: TaskContext, task_input: Steps) -> None:
        await ctx.checkpoint({"when": object()})

    with pytest.raises(TypeError, match="a checkpoint must be JSON"):
        run_kind(TaskKind(name="bad", description="", input_model=Steps, run=bad), {"steps": 1})


def test_objects_and_the_model_come_from_the_test() -> None:
    async def read(ctx: TaskContext, task_input: Steps) -> str:
        return f"{(await ctx.read_object('inputs/a.txt')).decode()} / {ctx.model()}"

    kind = TaskKind(name="read", description="", input_model=Steps, run=read)
    run = run_kind(kind, {"steps": 1}, objects={"inputs/a.txt": b"hello"}, model="scripted")
    assert run.result == "hello / scripted"
    with pytest.raises(TaskError) as missing:
        run_kind(kind, {"steps": 1}, objects={}, model="scripted")
    assert missing.value.code == "ObjectNotFound"
    with pytest.raises(TaskError) as no_bucket:
        run_kind(kind, {"steps": 1}, model="scripted")
    assert no_bucket.value.code == "NoBucket"


def cpu_steps(ctx: Any, task_input: Steps) -> int:
    done: int = ctx.resume_state["done"] if ctx.resume_state else 0
    while done < task_input.steps:
        done += 1
        ctx.checkpoint({"done": done})
    return done


CPU_STEPS = TaskKind(
    name="cpu_steps", description="", input_model=Steps, run=cpu_steps, resumable=True, cpu_bound=True
)


def test_a_cpu_bound_kind_runs_with_plain_checkpoints_and_unwinds_when_its_microvm_ends() -> None:
    assert run_kind(CPU_STEPS, {"steps": 3}).result == 3
    first = run_kind(CPU_STEPS, {"steps": 100}, stop_after_checkpoints=4)
    assert first.status == "SUSPENDED"
    assert first.last_checkpoint == {"done": 4}
    assert run_kind(CPU_STEPS, {"steps": 6}, resume_state=first.last_checkpoint).checkpoints == [
        {"done": 5},
        {"done": 6},
    ]
