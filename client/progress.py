"""A progress bar for ``wait``, fed by the task's reported progress (0.0-1.0)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from client.models import TaskResult


class Reporter(Protocol):
    """Receives each task state ``wait`` sees."""

    def __call__(self, result: TaskResult) -> None: ...


@contextmanager
def progress_bar(task_id: str, console: Console, *, enabled: bool) -> Iterator[Reporter]:
    """Yield a reporter drawing a bar on ``console`` (a no-op when not ``enabled``)."""
    if not enabled:
        yield lambda result: None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        handle = bar.add_task(f"{task_id[:8]} RUNNING", total=1.0)

        def report(result: TaskResult) -> None:
            completed = result.progress if result.progress is not None else 0.0
            bar.update(
                handle, completed=min(1.0, max(0.0, completed)), description=f"{task_id[:8]} {result.status}"
            )

        yield report
