"""Which announcements a task state owes, and sending one of them (blocking)."""

from __future__ import annotations

import logging
from typing import Final, Protocol

from agent.records import TaskRecord, TaskStatus

log = logging.getLogger("agent.announce")

EVENT: Final = "event"
"""The state-change event on the stage's bus (every state but RUNNING)."""
CALLBACK: Final = "callback"
"""The Step Functions task token (final states of tasks started with one)."""


class Publisher(Protocol):
    """Announces one record's state somewhere (blocking; raises when it could not)."""

    def close(self) -> None:
        """Release the client."""
        ...


class EventPublisher(Publisher, Protocol):
    """Puts the state-change event."""

    def publish(self, record: TaskRecord) -> None:
        """Announce ``record``'s state."""
        ...


class CallbackSender(Publisher, Protocol):
    """Completes the record's task token."""

    def complete(self, record: TaskRecord) -> None:
        """Report ``record``'s final state to its token."""
        ...


class Announcer:
    """One event per state reached (final or SUSPENDED) and the callback of a final state."""

    def __init__(self, events: EventPublisher | None, callbacks: CallbackSender | None) -> None:
        self._events = events
        self._callbacks = callbacks

    def owed(self, record: TaskRecord) -> tuple[str, ...]:
        """The announcements ``record``'s state owes (a RUNNING record owes none)."""
        if record.status is TaskStatus.RUNNING:
            return ()
        channels: tuple[str, ...] = (EVENT,) if self._events is not None else ()
        if self._callbacks is not None and record.callback_token is not None and record.status.finished:
            channels += (CALLBACK,)
        return channels

    def send(self, record: TaskRecord, channel: str) -> bool:
        """Send one announcement of ``record``'s state; False (logged) when it could not be sent."""
        try:
            if channel == EVENT and self._events is not None:
                self._events.publish(record)
            elif channel == CALLBACK and self._callbacks is not None:
                self._callbacks.complete(record)
            return True
        except Exception as exc:
            response = getattr(exc, "response", None)  # None on a connection error
            code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
            # Type and AWS error code only: driver text may carry endpoints or tokens.
            log.warning(
                "event not published" if channel == EVENT else "task token not completed",
                extra={
                    "task_id": record.task_id,
                    "status": record.status.value,
                    "error_type": type(exc).__name__,
                    "error_code": code,
                },
            )
            return False

    def close(self) -> None:
        """Release the clients."""
        for publisher in (self._events, self._callbacks):
            if publisher is not None:
                publisher.close()
