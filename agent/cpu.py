"""CPU-bound task kinds run in worker processes, so the event loop (and /ping) never waits on them.

A kind declared ``cpu_bound=True`` has a plain ``def run(ctx, input)``. Each run gets its own
process from a fork server (started once, so a run starts in milliseconds), at most
``AGENT_CPU_WORKERS`` at a time. The worker's ``ctx`` sends progress and checkpoints back over a
queue; the engine stores checkpoints in order as they arrive. Cancelling the task, or the microVM
ending, terminates the worker: the task resumes from its last stored checkpoint.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import multiprocessing
import queue
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from typing import Any, Final

from agent.run_context import RunHost, Running
from agentcore_async.kinds import TaskError, TaskKind

log = logging.getLogger("agent.cpu")
POLL_SECONDS: Final = 0.1
Event = tuple[Any, ...]


@dataclass
class WorkerContext:
    """The ``ctx`` a CPU-bound kind gets inside its worker process."""

    task_id: str
    attempt: int
    resume_state: Any
    checkpoint_interval: float
    deadline: float
    """``time.monotonic()`` value of the microVM's maximum lifetime (the same clock in every process)."""
    events: Any

    @property
    def remaining_seconds(self) -> float:
        """Seconds until the microVM's maximum lifetime."""
        return max(0.0, self.deadline - time.monotonic())

    def progress(self, fraction: float, message: str | None = None) -> None:
        """Report progress; the engine applies it at once."""
        self.events.put(("progress", fraction, message))

    def checkpoint(self, state: Any) -> None:
        """Send ``state`` to be stored; checkpoints are stored in the order they are sent."""
        self.events.put(("checkpoint", state))


def _work(module: str, kind_name: str, input_json: str, ctx: WorkerContext) -> None:
    """The worker process: run the kind and send its outcome as the last event."""
    try:
        kind: TaskKind[Any] = importlib.import_module(module).KIND
        if kind.name != kind_name:
            raise TaskError("KindMismatch", f"{module} defines {kind.name}, not {kind_name}")
        run: Any = kind.run  # a cpu_bound kind's run is a plain function taking this context
        result = run(ctx, kind.input_model.model_validate_json(input_json))
        ctx.events.put(("done", result))
    except TaskError as error:
        ctx.events.put(("failed", error.code, error.message))
    except Exception as exc:
        ctx.events.put(("failed", "TaskFailed", f"the task failed ({type(exc).__name__})"))


def _next_event(events: Any, process: BaseProcess) -> Event:
    """The worker's next event, or ``("gone", exit code)`` once it ended without one."""
    while True:
        try:
            event: Event = events.get(timeout=POLL_SECONDS)
            return event
        except queue.Empty:
            if not process.is_alive():
                try:
                    event = events.get(timeout=POLL_SECONDS)
                    return event
                except queue.Empty:
                    return ("gone", process.exitcode)


class CpuWorkers:
    """Runs CPU-bound kinds, each in its own short-lived worker process."""

    def __init__(self, workers: int) -> None:
        self._context: ForkServerContext = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["agentcore_async.kinds", "pydantic"])
        self._slots = asyncio.Semaphore(workers)
        # Waiting for events blocks a thread; these threads do nothing else.
        self._readers = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="agent-cpu-events")

    async def run(
        self, running: Running, host: RunHost, *, resume_state: Any, checkpoint_interval: float
    ) -> Any:
        """Run ``running``'s kind in a worker; returns its result, raises :class:`TaskError` on failure."""
        record = running.record
        kind = running.kind
        async with self._slots:
            events = self._context.Queue()
            ctx = WorkerContext(
                task_id=record.task_id,
                attempt=record.attempt,
                resume_state=resume_state,
                checkpoint_interval=checkpoint_interval,
                deadline=time.monotonic() + host.remaining_seconds(),
                events=events,
            )
            process = self._context.Process(
                target=_work,
                args=(kind.run.__module__, kind.name, record.input_json, ctx),
                name=f"agent-cpu-{record.task_id}",
                daemon=True,
            )
            process.start()
            loop = asyncio.get_running_loop()
            try:
                while True:
                    event = await loop.run_in_executor(self._readers, _next_event, events, process)
                    match event:
                        case ("progress", fraction, message):
                            running.report(float(fraction), None if message is None else str(message)[:200])
                        case ("checkpoint", state):
                            await host.save_checkpoint(running, state)
                        case ("done", result):
                            return result
                        case ("failed", code, message):
                            raise TaskError(str(code), str(message))
                        case _:
                            raise TaskError("WorkerFailed", f"the worker process ended ({event[1]})")
            finally:
                if process.is_alive():
                    process.terminate()
                await loop.run_in_executor(self._readers, process.join, 5)
                events.close()

    def close(self) -> None:
        """Stop waiting for events."""
        self._readers.shutdown(wait=False, cancel_futures=True)
