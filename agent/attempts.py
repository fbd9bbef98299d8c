"""The attempts this process runs: each one's work, heartbeats and checkpoints, and the outcome it
records (or SUSPENDED/LOST when the process stops first). Every write is fenced on the attempt, so
an attempt whose record moved on stops without writing."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

from opentelemetry.trace import Span

from agent import lifecycle, telemetry
from agent.clock import Clock
from agent.cpu import CpuWorkers
from agent.errors import StoreUnavailableError
from agent.gateway import StoreGateway, if_missing
from agent.kinds.registry import Kinds
from agent.lifecycle import Actor
from agent.logs import bind
from agent.records import TaskRecord, TaskStatus
from agent.run_context import RunContext, Running
from agent.settings import Settings
from agent.store.base import Beat
from agent.store.failures import refused_object
from agent.transitions import Transitions
from agentcore_async.kinds import TaskError

log = logging.getLogger("agent.engine")
Key = tuple[str, str]


class BusyTracker(Protocol):
    """Keeps /ping at HealthyBusy while work runs (see :class:`agent.ping.PingState`)."""

    def enter(self) -> None:
        """One more piece of work is running."""
        ...

    def leave(self) -> None:
        """One piece of work ended."""
        ...


class _SupersededError(Exception):
    """The stored record moved on while this attempt was still working on it."""


class AttemptRunner:
    """Runs task attempts as asyncio tasks; the :class:`agent.run_context.RunHost` of their work."""

    def __init__(
        self,
        settings: Settings,
        gateway: StoreGateway,
        transitions: Transitions,
        *,
        busy: BusyTracker,
        kinds: Kinds,
        model: Callable[[], Any] | None,
        clock: Clock,
    ) -> None:
        self._settings = settings
        self._gateway = gateway
        self._transitions = transitions
        self._busy = busy
        self.kinds = kinds
        self._model = model
        self._clock = clock
        self._cpu = CpuWorkers(settings.cpu_workers)
        self._running: dict[Key, Running] = {}
        self._stopping = False
        self._started = clock.monotonic()

    @property
    def running_count(self) -> int:
        """Attempts of this process still running."""
        return len(self._running)

    def running(self, session_id: str, task_id: str) -> Running | None:
        """The attempt of this task running here, if any."""
        return self._running.get((session_id, task_id))

    @property
    def stopping(self) -> bool:
        """Whether SIGTERM arrived."""
        return self._stopping

    def remaining_seconds(self) -> float:
        """Seconds until this microVM reaches its maximum lifetime."""
        return max(0.0, self._settings.max_duration_seconds - (self._clock.monotonic() - self._started))

    def stop(self) -> list[asyncio.Task[None]]:
        """SIGTERM: interrupt every attempt (each records SUSPENDED or LOST); returns their tasks."""
        self._stopping = True
        tasks = self.tasks()
        for task in tasks:
            task.cancel()
        return tasks

    def tasks(self) -> list[asyncio.Task[None]]:
        """The asyncio tasks of the attempts still running."""
        return [running.task for running in self._running.values() if running.task is not None]

    def close(self) -> None:
        """Stop the CPU workers."""
        self._cpu.close()

    def _final_expiry(self, record: TaskRecord) -> int:
        return lifecycle.final_expiry(self._clock.now(), record.retention, self._settings)

    def _ended(
        self, record: TaskRecord, status: TaskStatus, code: str | None, message: str | None, **fields: Any
    ) -> TaskRecord:
        """``record`` moved to ``status`` now (see :func:`agent.lifecycle.ended`)."""
        return lifecycle.ended(record, status, code, message, self._clock.now(), **fields)

    async def save_checkpoint(self, running: Running, state: Any) -> None:
        """Store a checkpoint durably (large ones in the blob store), riding out outages."""
        try:
            text = json.dumps(state, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"a checkpoint must be JSON: {exc}") from None
        data = text.encode()
        if len(data) > self._settings.max_result_bytes:
            raise TaskError(
                "CheckpointTooLarge", f"a checkpoint exceeds {self._settings.max_result_bytes} bytes"
            )
        key = await self._gateway.put_payload(running.record, "checkpoint", data)
        inline = text if key is None else None
        await self._beat(running, checkpoint=(inline, key))
        running.record = running.record.replace(checkpoint=inline, checkpoint_key=key)

    async def read_object(self, key: str) -> bytes:
        """An object of the configured bucket, held through a storage outage like a checkpoint.
        A key the bucket refuses is the caller's mistake (``ObjectNotFound``), not a storage failure."""
        if self._gateway.blobs is None:
            raise TaskError("NoBucket", "reading objects needs AGENT_BUCKET_NAME")

        def refused(exc: Exception) -> TaskError | None:
            if not refused_object(exc):
                return None
            message = f"{key} is not in the agent's bucket, or the agent may not read it"
            return TaskError("ObjectNotFound", message)

        return await self._gateway.get_blob("get object", key, refused, hold=True)

    def model(self) -> Any:
        """The configured strands model."""
        if self._model is None:
            raise TaskError("NoModel", "this agent has no model configured")
        return self._model()

    def launch(self, record: TaskRecord) -> None:
        """Run ``record``'s attempt here (once: a second launch of a running task does nothing)."""
        key = (record.session_id, record.task_id)
        if key in self._running:
            return
        running = Running(record=record, kind=self.kinds.get(record.kind))
        running.last_beat = asyncio.get_running_loop().time()
        self._running[key] = running
        running.task = asyncio.get_running_loop().create_task(
            self._run(running), name=f"task-{record.task_id}"
        )

    async def _run(self, running: Running) -> None:
        record = running.record
        kind = running.kind
        # This asyncio task's own context: every line it logs carries these.
        bind(session_id=record.session_id, task_id=record.task_id, attempt=record.attempt, kind=kind.name)
        with telemetry.task_span(
            session_id=record.session_id, task_id=record.task_id, kind=kind.name, attempt=record.attempt
        ) as span:
            await self._attempt(running, span)

    async def _attempt(self, running: Running, span: Span) -> None:
        record = running.record
        kind = running.kind
        self._busy.enter()
        started = self._clock.monotonic()
        heartbeat = asyncio.create_task(self._heartbeats(running))
        final: TaskRecord | None = None
        try:
            try:
                resume_state = await self._resume_state(record)
                interval = self._settings.heartbeat_seconds
                if kind.cpu_bound:
                    output = await self._cpu.run(
                        running, self, resume_state=resume_state, checkpoint_interval=interval
                    )
                else:
                    context = RunContext(
                        running, self, resume_state=resume_state, checkpoint_interval=interval
                    )
                    output = await kind.run(context, kind.input_model.model_validate_json(record.input_json))
                final = await self._completed(running, output)
            except asyncio.CancelledError:
                if running.superseded:
                    log.info("task record changed elsewhere; stopping")
                    telemetry.end_task(span, telemetry.SUPERSEDED, None)
                elif running.cancel_requested:
                    final = self._ended(
                        running.record, TaskStatus.CANCELLED, "Cancelled", "cancelled by request"
                    )
                else:
                    stopped = await self._record_stop(running)  # shutdown (SIGTERM): say so before exiting
                    telemetry.end_task(span, stopped.status.value, stopped.error_code)
                    raise
            except _SupersededError:
                log.info("task record changed elsewhere; stopping")
                telemetry.end_task(span, telemetry.SUPERSEDED, None)
            except TaskError as error:
                final = self._ended(running.record, TaskStatus.FAILED, error.code, error.message)
            except Exception as exc:
                log.exception("task failed")
                final = self._ended(
                    running.record, TaskStatus.FAILED, "TaskFailed", f"the task failed ({type(exc).__name__})"
                )
            if final is not None:
                running.recording = True
                recorded = await self._record_final(
                    record, final.replace(expires_at=self._final_expiry(final))
                )
                _attempt_ended(span, recorded, self._clock.monotonic() - started)
        finally:
            heartbeat.cancel()
            self._busy.leave()
            self._running.pop(running.key, None)
            running.done.set()
            running.changed.set()

    async def _resume_state(self, record: TaskRecord) -> Any:
        """The last checkpoint; one spilled to the bucket is read holding through an outage, like
        the write that stored it (the attempt keeps its heartbeats meanwhile)."""
        if record.checkpoint is not None:
            return json.loads(record.checkpoint)
        if record.checkpoint_key is not None and self._gateway.blobs is not None:
            expired = TaskError("CheckpointExpired", "the checkpoint to resume from is no longer stored")
            gone = if_missing(expired)
            return json.loads(
                await self._gateway.get_blob("get checkpoint", record.checkpoint_key, gone, hold=True)
            )
        return None

    async def _heartbeats(self, running: Running) -> None:
        """Prove the attempt alive every heartbeat interval (a checkpoint counts as one)."""
        with telemetry.untraced():
            await self._beat_periodically(running)

    async def _beat_periodically(self, running: Running) -> None:
        loop = asyncio.get_running_loop()
        interval = self._settings.heartbeat_seconds
        while True:
            await asyncio.sleep(max(0.0, running.last_beat + interval - loop.time()))
            if loop.time() < running.last_beat + interval:
                continue
            try:
                await self._beat(running)
            except StoreUnavailableError:
                log.warning("heartbeat not recorded")
                running.last_beat = loop.time()
            except _SupersededError:
                if running.task is not None and not running.recording:
                    running.task.cancel()
                return

    async def _beat(self, running: Running, checkpoint: tuple[str | None, str | None] | None = None) -> None:
        record = running.record
        now = self._clock.now()
        beat = Beat(
            progress=record.progress,
            message=record.message,
            at=now,
            expires_at=lifecycle.running_expiry(now, record.retention, self._settings),
            checkpoint=checkpoint,
        )
        store = self._gateway.store_for(record)
        # A checkpoint is work done, held through an outage; a plain heartbeat can wait for the next.
        what, call = (
            ("checkpoint", self._gateway.io_until_stored)
            if checkpoint is not None
            else ("heartbeat", self._gateway.io)
        )
        alive = await call(what, store.beat, record.session_id, record.task_id, record.attempt, beat)
        if not alive:
            running.superseded = True
            raise _SupersededError
        running.last_beat = asyncio.get_running_loop().time()

    async def _completed(self, running: Running, output: Any) -> TaskRecord:
        record = running.record
        if isinstance(output, str):
            text, result_format = output, "text"
        else:
            try:
                text = json.dumps(output, separators=(",", ":"), allow_nan=False)
            except (TypeError, ValueError):
                raise TaskError("BadResult", "the task's result is neither text nor JSON") from None
            result_format = "json"
        data = text.encode()
        if len(data) > self._settings.max_result_bytes:
            raise TaskError("ResultTooLarge", f"the result exceeds {self._settings.max_result_bytes} bytes")
        done = partial(self._ended, record, TaskStatus.COMPLETED, None, None, result_format=result_format)
        try:
            key = await self._gateway.put_payload(record, "result", data)
        except Exception:
            log.exception("result could not be stored")
            return self._ended(
                record, TaskStatus.FAILED, "ResultStoreFailed", "the result could not be stored"
            )
        if key is not None:
            return done(result_key=key, result_size=len(data))
        return done(result=text, result_size=len(data))

    async def _record_stop(self, running: Running) -> TaskRecord:
        """SIGTERM: store SUSPENDED (resumable, with the last checkpoint) or LOST now, with the usual
        bounded retries; a record whose mark cannot be written is settled after its lease. Returns
        the record it meant to write."""
        record = running.record
        if running.kind.resumable:
            stopped = self._ended(record, TaskStatus.SUSPENDED, None, None, keep_checkpoint=True)
        else:
            stopped = self._ended(
                record, TaskStatus.LOST, "TaskLost", "the agent stopped before the task finished"
            )
        try:
            await self._transitions.write(
                Actor.ATTEMPT, record, stopped.replace(expires_at=self._final_expiry(record))
            )
        except Exception:
            log.warning("task left RUNNING at shutdown; it is settled after the lease")
        return stopped

    async def _record_final(self, current: TaskRecord, final: TaskRecord) -> TaskRecord | None:
        """Write ``final``; a result that cannot be stored is recorded FAILED instead. Returns the
        outcome it wrote (or last tried to), or None when the record had changed elsewhere."""
        try:
            if not await self._gateway.until_stored(
                "finish", partial(self._transitions.write, Actor.ATTEMPT, current, final)
            ):
                log.warning("record changed elsewhere; outcome not recorded")
                return None
            return final
        except Exception:
            if final.status is not TaskStatus.COMPLETED:
                log.exception("final state not recorded")
                return final
            log.exception("result could not be recorded")
            failed = self._ended(
                final, TaskStatus.FAILED, "ResultStoreFailed", "the result could not be stored"
            )
            try:
                await self._transitions.write(Actor.ATTEMPT, current, failed)
            except Exception:
                log.exception("final state not recorded")
            return failed


def _attempt_ended(span: Span, recorded: TaskRecord | None, elapsed: float) -> None:
    """Trace and log the outcome an attempt recorded (None: another process's write won)."""
    if recorded is None:
        telemetry.end_task(span, telemetry.SUPERSEDED, None)
        return
    telemetry.end_task(span, recorded.status.value, recorded.error_code)
    log.info(
        "task finished",
        extra={"status": recorded.status.value, "elapsed_s": round(elapsed, 3)},
    )
