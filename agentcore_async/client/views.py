"""What ``result``, ``wait``, ``cancel`` and ``list`` print for a person on a terminal.

Programs get the agent's JSON instead (``--json``, or whenever standard output is not a terminal).
Times are shown in the local time zone, in ISO 8601.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any, Final

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from agentcore_async.client.models import TaskResult, TaskStatus

PREVIEW_CHARS: Final = 60
STATUS_STYLES: Final = {
    TaskStatus.RUNNING: "cyan",
    TaskStatus.SUSPENDED: "yellow",
    TaskStatus.COMPLETED: "green",
    TaskStatus.FAILED: "red",
    TaskStatus.CANCELLED: "magenta",
    TaskStatus.LOST: "red",
    TaskStatus.UNREADABLE: "red",
}


def local_time(timestamp: Any) -> str:
    """A unix time as local ISO 8601 (``2026-11-29T19:55:01+01:00``); ``-`` when there is none."""
    if not isinstance(timestamp, int | float) or isinstance(timestamp, bool):
        return "-"
    return datetime.fromtimestamp(timestamp).astimezone().isoformat(timespec="seconds")


def age(timestamp: Any, now: float) -> str:
    """How long ago ``timestamp`` was, to the second: ``42s``, ``3m05s``, ``2h04m``, ``3d02h``."""
    if not isinstance(timestamp, int | float) or isinstance(timestamp, bool):
        return "-"
    seconds = max(0, int(now - timestamp))
    minutes, secs = divmod(seconds, 60)
    hours, mins = divmod(minutes, 60)
    days, hrs = divmod(hours, 24)
    if days:
        return f"{days}d{hrs:02d}h"
    if hours:
        return f"{hours}h{mins:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def progress_text(task: TaskResult) -> str:
    """``40% 2.0 of 5 s``: the fraction and the work's own message."""
    parts = [] if task.progress is None else [f"{task.progress:.0%}"]
    if task.message:
        parts.append(task.message)
    return " ".join(parts) or "-"


def preview(task: TaskResult, chars: int = PREVIEW_CHARS) -> str:
    """One line about the outcome: the result's start, where a large one is, or the error."""
    if isinstance(task.error, dict):
        text = f"{task.error.get('code', 'Error')}: {task.error.get('message', '')}"
    elif task.result_url:
        text = f"large result at result_url ({task.result_url})"
        return text  # a URL is only useful whole
    elif task.result is None:
        return "-"
    elif isinstance(task.result, str):
        text = task.result
    else:
        text = json.dumps(task.result, separators=(",", ":"), default=str)
    text = " ".join(text.split())
    return text if len(text) <= chars else text[: chars - 1] + "…"


def _status(task: TaskResult) -> Text:
    return Text(task.status.value, style=STATUS_STYLES.get(task.status, ""))


def task_view(task: TaskResult, *, now: float | None = None) -> RenderableType:
    """One task as labelled lines."""
    now = time.time() if now is None else now
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    grid.add_row("task", task.task_id)
    grid.add_row("kind", task.kind or "-")
    grid.add_row("status", _status(task))
    grid.add_row("progress", progress_text(task))
    if task.attempt is not None and task.attempt > 1:
        grid.add_row("attempt", f"{task.attempt} (microVMs that ran it)")
    grid.add_row("created", f"{local_time(task.created_at)} ({age(task.created_at, now)} ago)")
    grid.add_row("updated", local_time(task.updated_at))
    label = "error" if isinstance(task.error, dict) else "result"
    grid.add_row(label, preview(task, chars=400))
    return grid


def list_view(
    tasks: list[TaskResult], *, next_cursor: str | None, prog: str, now: float | None = None
) -> RenderableType:
    """This session's tasks as a table, newest first, and how to get the next page."""
    now = time.time() if now is None else now
    if not tasks:
        return Text("no tasks in this session")
    table = Table("task", "kind", "status", "progress", "created", "age", "result")
    for task in tasks:
        status = _status(task)
        if task.attempt is not None and task.attempt > 1:
            status.append(f" (attempt {task.attempt})")
        table.add_row(
            Text(task.task_id, no_wrap=True),
            task.kind or "-",
            status,
            progress_text(task),
            local_time(task.created_at),
            age(task.created_at, now),
            preview(task),
        )
    if next_cursor is None:
        return table
    return Group(table, Text(f"more: {prog} list --cursor {next_cursor}", no_wrap=True))
