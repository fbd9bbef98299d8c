"""What a read of a record may write: a RUNNING record whose lease ran out is settled (SUSPENDED or
LOST) and a SUSPENDED one is resumed here, each as the life cycle decides and under its fence."""

from __future__ import annotations

import logging

from agent import lifecycle
from agent.attempts import AttemptRunner
from agent.clock import Clock
from agent.gateway import StoreGateway
from agent.lifecycle import Actor
from agent.records import TaskRecord, TaskStatus
from agent.settings import Settings
from agent.transitions import Transitions

log = logging.getLogger("agent.engine")


class Reconciler:
    """Acts on the lease and resume decisions of :mod:`agent.lifecycle` for records read."""

    def __init__(
        self,
        settings: Settings,
        gateway: StoreGateway,
        transitions: Transitions,
        runner: AttemptRunner,
        clock: Clock,
    ) -> None:
        self._settings = settings
        self._gateway = gateway
        self._transitions = transitions
        self._runner = runner
        self._clock = clock

    def status_of(self, record: TaskRecord) -> TaskStatus:
        """The status a caller sees now: RUNNING records of other processes whose heartbeat is
        older than the lease are dead."""
        return self.status_at(record, self._clock.now())

    def status_at(self, record: TaskRecord, now: float) -> TaskStatus:
        """:meth:`status_of` at ``now``."""
        return lifecycle.status_of(
            record, now, self._settings, self._resumable(record), ours=self._ours(record)
        )

    async def settled(self, record: TaskRecord) -> TaskRecord:
        """``record``, except that a RUNNING record whose lease ran out is written SUSPENDED (a
        resumable kind) or LOST first.

        Once a caller is told LOST it stays LOST: a process that was only frozen cannot finish the
        task afterwards (its conditional writes fail and its next heartbeat stops it).
        """
        self._transitions.announce_owed(record)
        now = self._clock.now()
        resumable = self._resumable(record)
        settled = lifecycle.settlement(record, now, self._settings, resumable, ours=self._ours(record))
        if settled is None:
            return record
        if await self._transitions.write(Actor.SETTLE, record, settled):
            log.info("task lease ran out", extra={"task_id": record.task_id, "status": settled.status.value})
            return settled
        return await self._gateway.reread(record)

    async def driven(self, record: TaskRecord) -> TaskRecord:
        """:meth:`settled`, and a SUSPENDED task is resumed here (unless this process is stopping)."""
        record = await self.settled(record)
        if self._runner.stopping:
            return record
        decided = lifecycle.resumption(record, self._clock.now(), self._settings, self._resumable(record))
        if decided is None:
            return record  # unclaimed: an image that registers the kind resumes it
        # The fencing step: only one process moves SUSPENDED at this attempt on.
        if not await self._transitions.write(Actor.RESUME, record, decided):
            return await self._gateway.reread(record)
        if decided.status is TaskStatus.RUNNING:
            self._runner.launch(decided)
            log.info("task resumed", extra={"task_id": decided.task_id, "attempt": decided.attempt})
        return decided

    def _ours(self, record: TaskRecord) -> bool:
        return self._runner.running(record.session_id, record.task_id) is not None

    def _resumable(self, record: TaskRecord) -> bool | None:
        """Whether this image resumes the record's kind; None for a kind it does not register
        (such a record waits SUSPENDED: an image that registers the kind decides)."""
        kinds = self._runner.kinds
        return kinds.get(record.kind).resumable if record.kind in kinds else None
