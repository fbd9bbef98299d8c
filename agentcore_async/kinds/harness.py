"""``run_kind``: one kind, in-process, with a recording context, for a kind author's unit tests.

No servers and no store: progress and checkpoints are recorded, time is virtual (an hour's sleep
returns at once and ``remaining_seconds`` counts it), and the microVM's end or a caller's cancel
happens when the test says. A resumed attempt is another ``run_kind`` with the first one's
``last_checkpoint`` as ``resume_state``, which is what the agent does across microVMs.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agentcore_async.kinds.base import StartLimits, TaskError, TaskKind
from agentcore_async.kinds.virtual_time import VirtualTimeLoop

log = logging.getLogger("agentcore_async.kinds.run_kind")


@dataclass(frozen=True)
class Progress:
    """One ``ctx.progress`` call."""

    fraction: float
    message: str | None
    at: float
    """Virtual seconds since the run began."""


@dataclass
class KindRun:
    """What one run of a kind did and how it ended."""

    status: str
    """``COMPLETED``; ``SUSPENDED`` (the microVM ended; ``LOST`` for a kind that is not resumable);
    or ``CANCELLED``. A :class:`TaskError` is raised instead of returned."""
    result: Any = None
    """What ``run`` returned, after a round trip through JSON as the agent stores it."""
    progress: list[Progress] = field(default_factory=list)
    checkpoints: list[Any] = field(default_factory=list)
    """Each ``ctx.checkpoint`` state in order, as JSON gives it back."""
    seconds: float = 0.0
    """Virtual seconds the run took."""

    @property
    def last_checkpoint(self) -> Any:
        """What the next attempt would get as ``resume_state`` (None when nothing was checkpointed)."""
        return self.checkpoints[-1] if self.checkpoints else None


class _MicroVMEnded(BaseException):
    """Unwinds a CPU-bound kind at its next report once its microVM has ended (the agent kills it)."""


def _as_json(value: Any, what: str) -> Any:
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as error:
        raise TypeError(f"{what} must be JSON (the agent stores it as JSON): {error}") from None


@dataclass
class _Script:
    """When the test ends the microVM or cancels: after the n-th checkpoint or at a virtual time."""

    stop_after_checkpoints: int | None
    cancel_after_checkpoints: int | None


class RecordingContext:
    """The ``ctx`` a kind's ``run`` gets under :func:`run_kind`."""

    def __init__(
        self,
        run: KindRun,
        loop: VirtualTimeLoop,
        *,
        task_id: str,
        attempt: int,
        resume_state: Any,
        checkpoint_interval: float,
        lifetime_seconds: float,
        model: Any,
        objects: Mapping[str, bytes] | None,
        script: _Script,
    ) -> None:
        self.task_id = task_id
        self.attempt = attempt
        self.resume_state = resume_state
        self.checkpoint_interval = checkpoint_interval
        self.log = log
        self._run = run
        self._loop = loop
        self._lifetime = lifetime_seconds
        self._model = model
        self._objects = objects
        self._script = script
        self._cancelled = False
        self._stopping = False
        self.work: asyncio.Future[Any] | None = None

    @property
    def cancelled(self) -> bool:
        """A caller asked to cancel."""
        return self._cancelled

    @property
    def stopping(self) -> bool:
        """The microVM is ending."""
        return self._stopping

    @property
    def remaining_seconds(self) -> float:
        """Virtual seconds until the microVM's maximum lifetime."""
        return max(0.0, self._lifetime - self._loop.time())

    def progress(self, fraction: float, message: str | None = None) -> None:
        """Recorded with its virtual time."""
        self._unwind_if_ended()
        clamped = round(min(1.0, max(0.0, fraction)), 4)
        text = None if message is None else message[:200]
        self._run.progress.append(Progress(clamped, text, self._loop.time()))

    async def checkpoint(self, state: Any) -> None:
        """Recorded (as JSON gives it back); may end the microVM or cancel, as the test scripted.

        It yields to the loop first, as the agent's store write does, so an ended microVM or a
        cancel interrupts it before the state is kept."""
        await asyncio.sleep(0)
        self._record_checkpoint(state)

    def model(self) -> Any:
        """The ``model`` given to :func:`run_kind`."""
        if self._model is None:
            raise RuntimeError("this kind asks for a model: pass run_kind(..., model=...)")
        return self._model

    async def read_object(self, key: str) -> bytes:
        """From ``objects``; ``ObjectNotFound`` and ``NoBucket`` as the agent answers them."""
        if self._objects is None:
            raise TaskError("NoBucket", "reading objects needs AGENT_BUCKET_NAME")
        if key not in self._objects:
            raise TaskError("ObjectNotFound", f"no object {key!r} in the bucket")
        return self._objects[key]

    def end_microvm(self) -> None:
        """SIGTERM: ``stopping`` turns true and the work is cancelled at its next await."""
        if not self._stopping and not self._cancelled:
            self._stopping = True
            self._interrupt()

    def cancel(self) -> None:
        """A caller's cancel: ``cancelled`` turns true and the work is cancelled at its next await."""
        if not self._stopping and not self._cancelled:
            self._cancelled = True
            self._interrupt()

    def _interrupt(self) -> None:
        # A CPU-bound kind's thread cannot be cancelled: it unwinds at its next report instead.
        if isinstance(self.work, asyncio.Task) and not self.work.done():
            self.work.cancel()

    def _record_checkpoint(self, state: Any) -> None:
        self._unwind_if_ended()
        self._run.checkpoints.append(_as_json(state, "a checkpoint"))
        count = len(self._run.checkpoints)
        # Right away, so the work is interrupted at its very next await (or report, off the loop).
        if count == self._script.stop_after_checkpoints:
            self.end_microvm()
        if count == self._script.cancel_after_checkpoints:
            self.cancel()

    def _unwind_if_ended(self) -> None:
        """Nothing to do on the loop: the work is cancelled at its next await."""


class CpuRecordingContext(RecordingContext):
    """The ``ctx`` of a ``cpu_bound`` kind: ``checkpoint`` is a plain call, as in the agent's workers."""

    def checkpoint(self, state: Any) -> None:  # type: ignore[override]
        """Recorded; returns at once."""
        self._record_checkpoint(state)

    def _unwind_if_ended(self) -> None:
        if self._stopping or self._cancelled:
            raise _MicroVMEnded


def run_kind(
    kind: TaskKind[Any],
    task_input: Any,
    *,
    resume_state: Any = None,
    attempt: int | None = None,
    task_id: str = "task-under-test",
    stop_after_checkpoints: int | None = None,
    stop_after_seconds: float | None = None,
    cancel_after_checkpoints: int | None = None,
    cancel_after_seconds: float | None = None,
    lifetime_seconds: float = 28800.0,
    checkpoint_interval: float = 5.0,
    model: Any = None,
    objects: Mapping[str, bytes] | None = None,
    limits: StartLimits | None = None,
) -> KindRun:
    """Run ``kind`` on ``task_input`` (a dict, validated as a start validates it, or an input model).

    The microVM ends (``stopping``, then the work is cancelled) after ``stop_after_checkpoints``
    checkpoints, at ``stop_after_seconds`` or at ``lifetime_seconds`` of virtual time, whichever
    comes first; ``cancel_after_*`` cancel as a caller would. ``resume_state`` and ``attempt``
    (default 1, or 2 with a ``resume_state``) make it a resumed attempt. ``limits`` also runs the
    kind's ``check``. Returns a :class:`KindRun`; raises the kind's :class:`TaskError`.
    """
    parsed = kind.input_model.model_validate(task_input) if isinstance(task_input, dict) else task_input
    if limits is not None and kind.check is not None:
        kind.check(parsed, limits)
    run = KindRun(status="RUNNING")
    loop = VirtualTimeLoop()
    context_type = CpuRecordingContext if kind.cpu_bound else RecordingContext
    ctx = context_type(
        run,
        loop,
        task_id=task_id,
        attempt=attempt if attempt is not None else (1 if resume_state is None else 2),
        resume_state=_as_json(resume_state, "resume_state"),
        checkpoint_interval=checkpoint_interval,
        lifetime_seconds=lifetime_seconds,
        model=model,
        objects=objects,
        script=_Script(stop_after_checkpoints, cancel_after_checkpoints),
    )
    work_input = kind.input_model.model_validate_json(parsed.model_dump_json())

    async def main() -> None:
        if kind.cpu_bound:
            ctx.work = loop.run_in_executor(None, kind.run, ctx, work_input)
        else:
            ctx.work = asyncio.ensure_future(kind.run(ctx, work_input))
        ends = lifetime_seconds if stop_after_seconds is None else min(lifetime_seconds, stop_after_seconds)
        loop.call_at(ends, ctx.end_microvm)
        if cancel_after_seconds is not None:
            loop.call_at(cancel_after_seconds, ctx.cancel)
        try:
            result = await ctx.work
            if kind.cpu_bound and ctx.stopping:  # the agent kills the worker: its result is lost
                raise _MicroVMEnded
            run.result = _as_json(result, f"the result of {kind.name}")
            run.status = "COMPLETED"
        except (asyncio.CancelledError, _MicroVMEnded):
            if ctx.cancelled:
                run.status = "CANCELLED"
            elif ctx.stopping:
                run.status = "SUSPENDED" if kind.resumable else "LOST"
            else:
                raise
        finally:
            run.seconds = loop.time()

    loop.run(main())
    return run
