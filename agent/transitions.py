"""Every state change of a stored record: fenced as the life cycle says, and announced by the one
writer whose conditional write succeeded."""

from __future__ import annotations

from functools import partial

from agent import lifecycle, metrics
from agent.announce.outbox import Outbox
from agent.gateway import StoreGateway
from agent.lifecycle import Actor, Change
from agent.records import TaskRecord


class Transitions:
    """Writes state changes through the gateway, with what each state owes (the outbox)."""

    def __init__(self, gateway: StoreGateway, outbox: Outbox | None) -> None:
        self._gateway = gateway
        self._outbox = outbox

    @property
    def announcing(self) -> bool:
        """Whether states are announced (an announcer is configured)."""
        return self._outbox is not None

    async def write(self, by: Actor, current: TaskRecord, new: TaskRecord) -> bool:
        """Write ``new`` over ``current`` under the fence the life cycle gives ``by`` (see
        :func:`agent.lifecycle.change`); one the driver retried after a lost reply still counts.

        The write itself records what the state owes, and only a writer whose conditional write
        succeeded starts sending it.
        """
        change = lifecycle.change(by, current, new)
        if self._outbox is not None:
            change = Change(self._outbox.owe(change.record), change.expected, change.attempt, change.beat_at)
        if not await self._written(change):
            return False
        self.announce_owed(change.record)
        return True

    def announce_owed(self, record: TaskRecord) -> None:
        """Send (in the background) what a record read or written still owes."""
        if self._outbox is not None and record.announce_pending:
            self._outbox.deliver(record, self._gateway.store_for(record))

    def close(self, budget: float) -> None:
        """Give pending announcements ``budget`` seconds (blocking); the rest stays owed."""
        if self._outbox is not None:
            self._outbox.close(budget)

    async def _written(self, change: Change) -> bool:
        record = change.record
        store = self._gateway.store_for(record)
        write = partial(store.transition, beat_at=change.beat_at)
        written = await self._gateway.io("transition", write, record, change.expected, change.attempt)
        if not written:
            current = await self._gateway.io("get", store.get, record.session_id, record.task_id)
            written = current is not None and (current.status, current.attempt, current.updated_at) == (
                record.status,
                record.attempt,
                record.updated_at,
            )
        if written:  # counted once, by the process whose write it was
            metrics.task_recorded(record.kind, record.status, record.updated_at - record.created_at)
        return written
