"""Put one ``Task State Change`` event on the stage's bus per state a task reaches."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import boto3

from agent.announce.detail import MAX_ENTRY_BYTES, compact_json, entry_size, task_detail
from agent.records import TaskRecord
from agent.store.retries import aws_config
from agentcore_async.contract import EVENT_DETAIL_TYPE, EVENT_SOURCE

log = logging.getLogger("agent.announce")


class EntryFailedError(Exception):
    """EventBridge accepted the call but not the entry (its ``ErrorCode``)."""


class EventBridgePublisher:
    """PutEvents on one bus; the client honours ``AWS_ENDPOINT_URL`` (tests reach moto with it).

    botocore's standard retries cover the call (throttling, 5xx, lost connections). A PutEvents
    answer can still refuse the entry inside a 200 (``FailedEntryCount``), which botocore cannot
    see; such an entry is sent again, ``attempts`` times in all, with the same backoff shape.
    """

    def __init__(self, bus_name: str, *, bucket_name: str | None, attempts: int, base_seconds: float) -> None:
        self._bus = bus_name
        self._bucket = bucket_name
        self._attempts = attempts
        self._base = base_seconds
        config = aws_config(attempts=attempts, max_connections=4, read_timeout=5)
        self._client: Any = boto3.session.Session().client("events", config=config)

    def entry(self, record: TaskRecord) -> dict[str, Any]:
        """The PutEvents entry for ``record``'s state."""
        detail = compact_json(task_detail(record, self._bucket))
        size = entry_size(detail)
        if size >= MAX_ENTRY_BYTES:  # the detail's fields are capped; this only guards that
            raise ValueError(f"event entry of {size} bytes exceeds EventBridge's limit")
        return {
            "EventBusName": self._bus,
            "Source": EVENT_SOURCE,
            "DetailType": EVENT_DETAIL_TYPE,
            "Detail": detail,
            "Time": datetime.fromtimestamp(record.updated_at, UTC),
        }

    def publish(self, record: TaskRecord) -> None:
        """Put the event; raises after the last attempt failed."""
        entry = self.entry(record)
        for attempt in range(self._attempts):
            answer = self._client.put_events(Entries=[entry])
            if not answer.get("FailedEntryCount"):
                return
            failed = answer["Entries"][0]
            code = failed.get("ErrorCode", "Unknown")
            if attempt + 1 == self._attempts:
                raise EntryFailedError(f"{code}: {failed.get('ErrorMessage', '')}")
            log.warning("event entry refused; retrying", extra={"error_code": code})
            time.sleep(self._base * 2**attempt)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()
