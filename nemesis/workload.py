"""Concurrent clients: start tasks (some with a ``client_token``, some repeated, some with a task
token), poll, long-poll, list with cursors and cancel, over several sessions."""

from __future__ import annotations

import random
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from nemesis.cluster import Cluster
from nemesis.history import FINAL_STATUSES, Call

LONE_SURROGATE_SHARE = 0.03
"""Starts whose label is a lone UTF-16 surrogate: valid JSON that must be refused, not crash."""
CALL_SLACK_SECONDS = 15.0
"""How much longer than its long-poll a call may take before the client gives up on it."""


@dataclass
class Client:
    """One client's loop; its choices come from its own seeded generator."""

    name: str
    cluster: Cluster
    sessions: list[str]
    rng: random.Random
    pad_bytes: int
    ephemeral: bool
    known: list[tuple[str, str]] = field(default_factory=list)
    """(session, task id) of every task this client was answered."""
    starts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """(session, request) of its starts with a token, to repeat exactly."""

    def run(self, stop: threading.Event) -> None:
        """Random operations until ``stop`` is set."""
        while not stop.is_set():
            roll = self.rng.random()
            if roll < 0.35 or not self.known:
                self.start()
            elif roll < 0.45 and self.starts:
                session, request = self.rng.choice(self.starts)
                self._start_call(session, request)
            elif roll < 0.75:
                session, task_id = self.rng.choice(self.known)
                wait = self.rng.choice([0, 0, 1, 3])
                self.get(session, task_id, wait)
            elif roll < 0.93:
                self.list_all(self.rng.choice(self.sessions), limit=self.rng.randint(1, 4), pages=3)
            else:
                session, task_id = self.rng.choice(self.known)
                self.call(session, {"action": "cancel_task", "task_id": task_id}, 0)
            stop.wait(self.rng.uniform(0.05, 0.4))

    def start(self) -> None:
        """A new ``tally`` task, spanning microVM lifetimes now and then."""
        items = [self.rng.randint(-50, 50) for _ in range(self.rng.randint(2, 14))]
        task_input: dict[str, Any] = {"items": items, "pause": round(self.rng.uniform(0.2, 0.7), 2)}
        if self.pad_bytes and self.rng.random() < 0.5:
            task_input["pad"] = self.pad_bytes
        if self.rng.random() < LONE_SURROGATE_SHARE:
            task_input["label"] = "\ud800"  # JSON can carry it; UTF-8 cannot
        request: dict[str, Any] = {"action": "start_task", "kind": "tally", "input": task_input}
        if self.ephemeral and self.rng.random() < 0.5:
            request["retention"] = "ephemeral"
        if self.rng.random() < 0.3:
            request["callback"] = {"task_token": f"token-{uuid.UUID(int=self.rng.getrandbits(128))}"}
        session = self.rng.choice(self.sessions)
        if self.rng.random() < 0.5:
            request["client_token"] = f"{self.name}-{self.rng.getrandbits(48):012x}"
            self.starts.append((session, request))
        self._start_call(session, request)

    def _start_call(self, session: str, request: dict[str, Any]) -> None:
        answer = self.call(session, request, 0).answer or {}
        task_id = answer.get("task_id")
        if isinstance(task_id, str) and (session, task_id) not in self.known:
            self.known.append((session, task_id))

    def get(self, session: str, task_id: str, wait: float) -> Call:
        """``get_task_result``, long-polling ``wait`` seconds."""
        request = {"action": "get_task_result", "task_id": task_id, "wait_seconds": wait}
        return self.call(session, request, wait)

    def list_all(self, session: str, *, limit: int, pages: int) -> None:
        """``list_tasks``, following ``next_cursor`` for up to ``pages`` pages."""
        cursor: str | None = None
        for _ in range(pages):
            request: dict[str, Any] = {"action": "list_tasks", "limit": limit}
            if cursor is not None:
                request["cursor"] = cursor
            cursor = (self.call(session, request, 0).answer or {}).get("next_cursor")
            if not cursor:
                return

    def call(self, session: str, request: dict[str, Any], wait: float) -> Call:
        """One invocation, recorded in the history."""
        return self.cluster.call(self.name, session, request, timeout=wait + CALL_SLACK_SECONDS)


def settled(call: Call) -> bool:
    """Whether this answer ends the heal phase's polling of its task: a final state, or an answer
    that will never change (an error other than an outage). A suspension is polled on: once the
    faults are over, every microVM can resume it."""
    answer = call.answer or {}
    if answer.get("status") in FINAL_STATUSES:
        return True
    code = call.error_code()
    return code is not None and code not in ("StorageUnavailable", "ShuttingDown")
