"""What a nemesis run records: every call with its answer and times, every announcement the
stand-in endpoints received, every fault, each item the ``tally`` kind ran, each shutdown.

Times are seconds since the run began (monotonic). A history is plain data: the checker reads it,
and it is written to ``history.jsonl`` so a failing run can be read again.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

FINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELLED", "LOST"})
"""Statuses that never change once answered (the README's task states)."""


@dataclass(frozen=True)
class Call:
    """One invocation and what came back: an HTTP answer, or a transport failure."""

    seq: int
    client: str
    session: str
    request: dict[str, Any]
    started: float
    ended: float
    status: int | None = None
    answer: dict[str, Any] | None = None
    raw: str | None = None
    """A body that was not a JSON object (its start)."""
    transport_error: str | None = None
    vm: int | None = None
    """The microVM that served it."""

    @property
    def action(self) -> str:
        """The request's action."""
        return str(self.request.get("action", ""))

    def error_code(self) -> str | None:
        """The answer's error code, if it is an error answer (a FAILED task's view, which carries
        its own ``error``, is not one)."""
        answer = self.answer or {}
        error = answer.get("error")
        return str(error.get("code")) if isinstance(error, dict) and "status" not in answer else None

    def views(self) -> list[dict[str, Any]]:
        """The task views this answer carries: one for get/cancel, every summary of a list."""
        if self.answer is None or self.error_code() is not None:
            return []
        if self.action in ("get_task_result", "cancel_task") and "status" in self.answer:
            return [self.answer]
        if self.action == "list_tasks":
            return [t for t in self.answer.get("tasks", []) if isinstance(t, dict)]
        return []

    def brief(self, task_id: str | None = None) -> str:
        """One line for a violation report; a list's answer shows only ``task_id``'s summary."""
        req = {k: v for k, v in self.request.items() if k not in ("action", "input", "cursor")}
        if self.transport_error is not None:
            got = f"transport: {self.transport_error}"
        elif self.answer is not None and self.action == "list_tasks" and "tasks" in self.answer:
            mine = [_essence(t) for t in self.views() if t.get("task_id") == task_id]
            got = f"{len(self.answer['tasks'])} tasks, this one: {json.dumps(mine, separators=(',', ':'))}"
        elif self.answer is not None:
            got = json.dumps(_essence(self.answer), separators=(",", ":"))
        else:
            got = f"HTTP {self.status} {self.raw!r}"
        where = f"vm{self.vm}" if self.vm is not None else "vm?"
        return (
            f"#{self.seq} [{self.started:7.2f}-{self.ended:7.2f}] {self.client} {where} {self.action} "
            f"{json.dumps(req, separators=(',', ':'))} -> {got}"
        )


@dataclass(frozen=True)
class Announcement:
    """A PutEvents entry or a Step Functions callback the stand-in received."""

    at: float
    channel: Literal["event", "callback"]
    task_id: str
    attempt: int | None
    status: str
    event_id: str | None
    content: dict[str, Any]
    accepted: bool
    """Whether the stand-in answered success (in a failing or hanging phase it did not)."""


@dataclass(frozen=True)
class Fault:
    """One injected fault."""

    at: float
    name: str
    target: str
    seconds: float = 0.0


@dataclass(frozen=True)
class ItemRun:
    """One item of a ``tally`` task finished (a line of the side channel)."""

    task_id: str
    index: int
    attempt: int
    pid: int


@dataclass(frozen=True)
class Shutdown:
    """A SIGTERM to an agent and when (if ever) it exited by itself."""

    vm: int
    signalled_at: float
    exited_after: float | None
    """Seconds from SIGTERM to exit; None when it had to be killed."""


@dataclass
class History:
    """Everything a run recorded; appended to from many threads."""

    seed: int
    calls: list[Call] = field(default_factory=list)
    announcements: list[Announcement] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    item_runs: list[ItemRun] = field(default_factory=list)
    shutdowns: list[Shutdown] = field(default_factory=list)
    heal_started: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, entry: Call | Announcement | Fault | Shutdown) -> None:
        """Record one entry (thread-safe)."""
        with self._lock:
            if isinstance(entry, Call):
                self.calls.append(entry)
            elif isinstance(entry, Announcement):
                self.announcements.append(entry)
            elif isinstance(entry, Fault):
                self.faults.append(entry)
            else:
                self.shutdowns.append(entry)

    def write(self, path: Path) -> None:
        """Every entry as one JSON line, tagged with its type."""
        with path.open("w") as out:
            run = {"type": "run", "seed": self.seed, "heal_started": self.heal_started}
            out.write(json.dumps(run) + "\n")
            for name, entries in (
                ("call", self.calls),
                ("announcement", self.announcements),
                ("fault", self.faults),
                ("item_run", self.item_runs),
                ("shutdown", self.shutdowns),
            ):
                for entry in entries:
                    record = {k: v for k, v in dataclasses.asdict(entry).items()}
                    out.write(json.dumps({"type": name, **record}, default=str) + "\n")


def read_history(path: Path) -> History:
    """A history written by :meth:`History.write`."""
    history = History(seed=0)
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        kind = entry.pop("type")
        if kind == "run":
            history.seed, history.heal_started = entry["seed"], entry["heal_started"]
        elif kind == "call":
            history.calls.append(Call(**entry))
        elif kind == "announcement":
            history.announcements.append(Announcement(**entry))
        elif kind == "fault":
            history.faults.append(Fault(**entry))
        elif kind == "item_run":
            history.item_runs.append(ItemRun(**entry))
        elif kind == "shutdown":
            history.shutdowns.append(Shutdown(**entry))
    return history


def read_item_runs(path: Path) -> list[ItemRun]:
    """The side channel's lines: ``task_id index attempt pid``."""
    if not path.exists():
        return []
    runs = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 4:
            runs.append(ItemRun(parts[0], int(parts[1]), int(parts[2]), int(parts[3])))
    return runs


def _essence(view: dict[str, Any]) -> Any:
    """A view without what every line repeats (kind, times, retention)."""
    dropped = ("kind", "created_at", "updated_at", "retention", "task_id", "progress")
    return _shorten({k: v for k, v in view.items() if k not in dropped})


def _shorten(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shorten(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten(v) for v in value[:5]]
    if isinstance(value, str) and len(value) > 40:
        return value[:37] + "..."
    return value
