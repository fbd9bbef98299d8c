"""What ``wait`` shows while it waits: a progress bar on a terminal, plain lines otherwise.

Each retried failure says what ``wait`` waits for and why: on the status line under the bar on a
terminal, as one line per backoff elsewhere (logs, CI).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from rich.console import Console, RenderableType
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from agentcore_async.client.errors import AgentError
from agentcore_async.client.models import TaskResult


class BarWithStatus(Progress):
    """A progress bar with a one-line status under it (cut to the terminal's width)."""

    status: str = ""

    def get_renderables(self) -> Iterable[RenderableType]:
        """The bar, then the status line when there is one."""
        yield self.make_tasks_table(self.tasks)
        if self.status:
            yield Text(self.status, no_wrap=True, overflow="ellipsis")


class WaitReporter:
    """Receives each task state and each retried failure ``wait`` sees; remembers the last state."""

    def __init__(self, task_id: str, console: Console, bar: BarWithStatus | None) -> None:
        self.task_id = task_id
        self.draws = bar is not None
        """Whether a bar shows the progress (so ``wait`` should follow it)."""
        self.last: TaskResult | None = None
        self._console = console
        self._bar = bar
        self._handle: TaskID | None = None
        if bar is not None:
            self._handle = bar.add_task(self._status(), total=1.0)

    def update(self, result: TaskResult) -> None:
        """A poll answered."""
        self.last = result
        if self._bar is not None and self._handle is not None:
            self._bar.status = ""
            completed = result.progress if result.progress is not None else 0.0
            self._bar.update(
                self._handle, completed=min(1.0, max(0.0, completed)), description=self._status()
            )

    def retrying(self, error: AgentError, pause: float) -> None:
        """A poll failed with a retryable error; the next try comes after ``pause`` seconds."""
        if self._bar is not None:
            self._bar.status = f"retrying in {pause:.1f}s: {error.code}: {error.message}"
            self._bar.refresh()
            return
        self._console.print(
            f"waiting for {self.task_id}: {error.code}: {error.message}; retrying in {pause:.1f}s",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )

    def _status(self) -> str:
        return f"{self.task_id[:8]} {self.last.status if self.last else 'waiting'}"


@contextmanager
def wait_reporter(task_id: str, console: Console, *, bar: bool) -> Iterator[WaitReporter]:
    """A reporter drawing a progress bar when ``bar`` and ``console`` is a terminal, else lines."""
    if not (bar and console.is_terminal):
        yield WaitReporter(task_id, console, None)
        return
    with BarWithStatus(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        yield WaitReporter(task_id, console, progress)
