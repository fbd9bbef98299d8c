"""The kind SDK: what a task kind is (:class:`TaskKind`), what its work sees (:class:`TaskContext`),
how it fails on purpose (:class:`TaskError`), and :func:`run_kind` to unit-test it without servers.

A kind module imports only this package (and pydantic for its input model), so it runs unchanged
in the agent on AWS, in the emulator and under :func:`run_kind`.
"""

from agentcore_async.kinds.base import InputProblem, StartLimits, TaskContext, TaskError, TaskKind
from agentcore_async.kinds.harness import KindRun, Progress, run_kind

__all__ = [
    "InputProblem",
    "KindRun",
    "Progress",
    "StartLimits",
    "TaskContext",
    "TaskError",
    "TaskKind",
    "run_kind",
]
