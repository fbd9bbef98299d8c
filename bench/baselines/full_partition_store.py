"""Run a server module with the DynamoDB store's resume reads as they were before the open index.

``python -m bench.baselines.full_partition_store MODULE``: ``unfinished`` and ``announcing`` (and
``open_records``, which a first invocation uses, as both of them) read
the session's whole partition and filter afterwards, as the agent did until the sparse index, so
the resume-cost figure compares both in one run on one machine.
"""

from __future__ import annotations

import runpy
import sys
from typing import Any

from agent.records import TaskRecord, TaskStatus
from agent.store.dynamodb import DynamoStore, _record
from agentcore_async.contract import TableSchema


def full_partition_query(
    store: Any, session_id: str, condition: str, names: dict[str, str], values: dict[str, Any]
) -> list[Any]:
    """Every page of a consistent query of the session's partition with ``condition`` as filter."""
    params: dict[str, Any] = {
        "TableName": store._table,
        "KeyConditionExpression": "#pk = :pk",
        "FilterExpression": condition,
        "ExpressionAttributeNames": {"#pk": TableSchema.PARTITION_KEY, **names},
        "ExpressionAttributeValues": {":pk": {"S": session_id}, **values},
        "ConsistentRead": True,
    }
    items: list[Any] = []
    while True:
        response = store._client.query(**params)
        items += response.get("Items", [])
        if not response.get("LastEvaluatedKey"):
            return items
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def unfinished(store: DynamoStore, session_id: str) -> list[TaskRecord]:
    """RUNNING and SUSPENDED records, filtered out of the whole partition."""
    statuses = {":running": {"S": TaskStatus.RUNNING.value}, ":suspended": {"S": TaskStatus.SUSPENDED.value}}
    items = full_partition_query(
        store, session_id, "#s IN (:running, :suspended)", {"#s": "status"}, statuses
    )
    return [_record(item) for item in items]


def announcing(store: DynamoStore, session_id: str) -> list[TaskRecord]:
    """Records owing an announcement, filtered out of the whole partition."""
    items = full_partition_query(store, session_id, "attribute_exists(#o)", {"#o": "announce_pending"}, {})
    return [_record(item) for item in items]


def open_records(store: DynamoStore, session_id: str) -> list[TaskRecord]:
    """What a session's first invocation reads, as the two partition reads above."""
    unfinished_ones = unfinished(store, session_id)
    seen = {record.task_id for record in unfinished_ones}
    return unfinished_ones + [r for r in announcing(store, session_id) if r.task_id not in seen]


def main() -> None:
    """Swap the two reads in, then run the module as ``__main__``."""
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m bench.baselines.full_partition_store MODULE")
    setattr(DynamoStore, "unfinished", unfinished)  # noqa: B010 - a method swapped in on purpose
    setattr(DynamoStore, "announcing", announcing)  # noqa: B010
    setattr(DynamoStore, "open_records", open_records)  # noqa: B010
    module = sys.argv[1]
    sys.argv = [module]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
