"""What a task kind is, and what its work sees while it runs.

A kind is one module defining a pydantic input model and ``async def run(ctx, input)``; it exposes
``KIND = TaskKind(...)``. The agent loads it from ``agent/kinds/`` (one line in
``agent.kinds.KIND_MODULES``) or from a directory named at deploy time (``kinds_dirs``). pydantic
is the kind's own import: this module needs only the standard library.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from pydantic import BaseModel

Input = TypeVar("Input", bound="BaseModel")


class TaskError(Exception):
    """Raise from ``run`` to fail the task with your own error code and message (shown to callers)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class InputProblem(ValueError):
    """Raised by a kind's ``check``: ``field`` of the input cannot be run as given."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class StartLimits:
    """What the agent allows a new task of a kind, for the kind's ``check``."""

    max_seconds: float
    """How long the task may run: the microVM's remaining lifetime, or, for a resumable kind,
    every allowed attempt's whole lifetime."""
    over_time: str
    """Why a longer task is refused, e.g. ``exceeds the remaining lifetime of this microVM (1750s)``."""
    max_result_bytes: int


class TaskContext(Protocol):
    """What a kind's ``run`` gets besides its input."""

    task_id: str
    attempt: int
    """1 on the first run, then one more for each resume in a new microVM."""
    resume_state: Any
    """The last checkpoint (JSON) of an earlier attempt, or None on a fresh start."""
    log: logging.Logger
    """A logger whose lines carry this task's session id, task id and attempt."""
    checkpoint_interval: float
    """A sensible period between checkpoints (the agent's heartbeat interval)."""

    @property
    def cancelled(self) -> bool:
        """True once a caller asked to cancel: stop soon (the work is also cancelled at its next await)."""
        ...

    @property
    def stopping(self) -> bool:
        """True once the microVM is ending (SIGTERM): a last checkpoint is worth writing now."""
        ...

    @property
    def remaining_seconds(self) -> float:
        """Seconds until this microVM reaches its maximum lifetime."""
        ...

    def progress(self, fraction: float, message: str | None = None) -> None:
        """Report progress (0-1) and a short message; stored with the next heartbeat."""
        ...

    async def checkpoint(self, state: Any) -> None:
        """Store ``state`` (JSON) durably now; a resumed attempt gets it as ``resume_state``."""
        ...

    async def read_object(self, key: str) -> bytes:
        """An object of the configured bucket; raises :class:`TaskError` ``ObjectNotFound`` for a key
        that is not there (or may not be read) and ``NoBucket`` when no bucket is configured."""
        ...

    def model(self) -> Any:
        """The configured strands model (``AGENT_MODEL_ID`` on Bedrock, or ``AGENT_MODEL_FACTORY``'s)."""
        ...


@dataclass(frozen=True)
class TaskKind(Generic[Input]):
    """One kind of background work."""

    name: str
    description: str
    input_model: type[Input]
    run: Callable[[TaskContext, Input], Awaitable[Any]] | Callable[[Any, Input], Any]
    """Does the work; returns the result (text, or any JSON value). ``async`` unless ``cpu_bound``."""
    resumable: bool = False
    """Whether a run may continue in a new microVM from its last checkpoint."""
    check: Callable[[Input, StartLimits], None] | None = None
    """Refuses inputs this agent cannot run now (raise :class:`InputProblem`)."""
    cpu_bound: bool = False
    """The work computes rather than waits: ``run`` is a plain function run in a worker process
    (see :mod:`agent.cpu`), so /ping stays fast. Its ``ctx`` has ``task_id``, ``attempt``,
    ``resume_state``, ``checkpoint_interval``, ``remaining_seconds``, ``progress()`` and a
    ``checkpoint()`` that returns at once (checkpoints are stored in the order sent)."""
