"""One running attempt of a task: its in-process state and the context its work sees."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from agent.records import TaskRecord
from agentcore_async.kinds import TaskKind

log = logging.getLogger("agent.task")


@dataclass(eq=False)
class Running:
    """What this process knows about a task it runs (mutated only on the event loop)."""

    record: TaskRecord
    """The record as last written by this attempt (checkpoint, progress)."""
    kind: TaskKind[Any]
    task: asyncio.Task[None] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    """Set (and replaced) whenever progress changes, to wake long-polls."""
    cancel_requested: bool = False
    superseded: bool = False
    """The stored record moved on (another attempt, a reader's LOST): stop without writing."""
    recording: bool = False
    """The outcome is decided and being written: a cancel must not interrupt (and lose) it."""
    last_beat: float = 0.0
    """Loop time of the last write that proved this attempt alive."""

    @property
    def key(self) -> tuple[str, str]:
        """(session id, task id)."""
        return (self.record.session_id, self.record.task_id)

    def report(self, fraction: float, message: str | None) -> None:
        """New progress: kept here, written with the next beat, and long-polls are woken."""
        self.record = self.record.replace(progress=round(min(1.0, max(0.0, fraction)), 4), message=message)
        self.changed.set()
        self.changed = asyncio.Event()


class RunHost(Protocol):
    """What the engine offers a running task's context."""

    @property
    def stopping(self) -> bool:
        """Whether the process is draining (SIGTERM)."""
        ...

    def remaining_seconds(self) -> float:
        """Seconds until the microVM's maximum lifetime."""
        ...

    async def save_checkpoint(self, running: Running, state: Any) -> None:
        """Store ``state`` durably as the task's checkpoint."""
        ...

    async def read_object(self, key: str) -> bytes:
        """An object of the configured bucket; ``TaskError`` ``ObjectNotFound`` when the bucket
        refuses the key."""
        ...

    def model(self) -> Any:
        """The configured strands model."""
        ...


class RunContext:
    """The :class:`agentcore_async.kinds.TaskContext` of one attempt."""

    def __init__(
        self, running: Running, host: RunHost, *, resume_state: Any, checkpoint_interval: float
    ) -> None:
        self._running = running
        self._host = host
        record = running.record
        self.task_id = record.task_id
        self.attempt = record.attempt
        self.resume_state = resume_state
        self.checkpoint_interval = checkpoint_interval
        self.log = log  # the task's asyncio context binds its session, task id and attempt

    @property
    def cancelled(self) -> bool:
        """A caller asked to cancel."""
        return self._running.cancel_requested

    @property
    def stopping(self) -> bool:
        """The microVM is ending."""
        return self._host.stopping

    @property
    def remaining_seconds(self) -> float:
        """Seconds until the microVM's maximum lifetime."""
        return self._host.remaining_seconds()

    def progress(self, fraction: float, message: str | None = None) -> None:
        """Report progress and a message."""
        self._running.report(fraction, None if message is None else message[:200])

    async def checkpoint(self, state: Any) -> None:
        """Store ``state`` durably now."""
        await self._host.save_checkpoint(self._running, state)

    async def read_object(self, key: str) -> bytes:
        """An object of the configured bucket; ``ObjectNotFound`` when it is not there (or may not
        be read), so a kind can tell its caller which input was wrong."""
        return await self._host.read_object(key)

    def model(self) -> Any:
        """The configured strands model."""
        return self._host.model()
