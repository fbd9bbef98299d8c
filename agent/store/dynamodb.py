"""DynamoDB task store: one item per task, conditional writes, TTL on ``expires_at``."""

from __future__ import annotations

import itertools
import time
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from agent.records import TaskRecord, TaskStatus
from agent.store.base import UNFINISHED_STATUSES, Beat, Cursor, live_now
from agent.store.decoding import record_from_item
from agent.store.retries import aws_config, counting_retries
from agentcore_async.contract import TableSchema

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def task_table_definition(table_name: str) -> dict[str, Any]:
    """The ``CreateTable`` request for a table shaped like the storage stack's.

    For local DynamoDB endpoints (moto, DynamoDB Local); on AWS the stack creates the table.
    """
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": TableSchema.PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": TableSchema.SORT_KEY, "AttributeType": "S"},
            {"AttributeName": TableSchema.CREATED_ATTRIBUTE, "AttributeType": "N"},
            {"AttributeName": TableSchema.OPEN_ATTRIBUTE, "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": TableSchema.PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": TableSchema.SORT_KEY, "KeyType": "RANGE"},
        ],
        "LocalSecondaryIndexes": [
            {
                "IndexName": TableSchema.CREATED_INDEX,
                "KeySchema": [
                    {"AttributeName": TableSchema.PARTITION_KEY, "KeyType": "HASH"},
                    {"AttributeName": TableSchema.CREATED_ATTRIBUTE, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": TableSchema.OPEN_INDEX,
                "KeySchema": [
                    {"AttributeName": TableSchema.PARTITION_KEY, "KeyType": "HASH"},
                    {"AttributeName": TableSchema.OPEN_ATTRIBUTE, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    }


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _item(record: TaskRecord) -> dict[str, Any]:
    # Nothing owed is no attribute at all: ``announcing`` finds records by its presence.
    plain = {k: _to_dynamo(v) for k, v in record.to_item().items() if v is not None and v != []}
    if record.status.value in UNFINISHED_STATUSES or record.announce_pending:
        # Every status change is a whole-item put, so a settled record drops out of the index.
        plain[TableSchema.OPEN_ATTRIBUTE] = record.task_id
    return {k: _serializer.serialize(v) for k, v in plain.items()}


def _record(item: dict[str, Any]) -> TaskRecord:
    plain = {k: _deserializer.deserialize(v) for k, v in item.items()}
    keys = (plain[TableSchema.PARTITION_KEY], plain[TableSchema.SORT_KEY])
    return record_from_item(*keys, plain)


def _condition_failed(exc: ClientError) -> bool:
    return bool(exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


class DynamoStore:
    """Task records in the table the stack creates (keys and index names from :class:`TableSchema`).

    The client honours ``AWS_ENDPOINT_URL`` (and ``AWS_ENDPOINT_URL_DYNAMODB``), which is how
    tests reach a local moto server.
    """

    def __init__(self, table_name: str, *, attempts: int = 4, max_connections: int = 32) -> None:
        self._table = table_name
        config = aws_config(attempts=attempts, max_connections=max_connections, read_timeout=10)
        self._client = counting_retries(boto3.session.Session().client("dynamodb", config=config), "dynamodb")

    def _key(self, session_id: str, task_id: str) -> dict[str, Any]:
        return {TableSchema.PARTITION_KEY: {"S": session_id}, TableSchema.SORT_KEY: {"S": task_id}}

    def create(self, record: TaskRecord) -> TaskRecord:
        """Conditional put over nothing or an expired item (which DynamoDB deletes only eventually);
        returns the stored record (an earlier live one when the id exists)."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=_item(record),
                ConditionExpression="attribute_not_exists(#pk) OR #ttl < :created",
                ExpressionAttributeNames={
                    "#pk": TableSchema.PARTITION_KEY,
                    "#ttl": TableSchema.TTL_ATTRIBUTE,
                },
                ExpressionAttributeValues={":created": {"N": repr(record.created_at)}},
            )
            return record
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
        existing = self._read(record.session_id, record.task_id)
        if existing is None:  # pragma: no cover - only if TTL deleted it in between
            return self.create(record)
        return existing

    def get(self, session_id: str, task_id: str) -> TaskRecord | None:
        """Strongly consistent read; None also once expired (DynamoDB's TTL deletes only eventually)."""
        return live_now(self._read(session_id, task_id))

    def _read(self, session_id: str, task_id: str) -> TaskRecord | None:
        response = self._client.get_item(
            TableName=self._table, Key=self._key(session_id, task_id), ConsistentRead=True
        )
        item = response.get("Item")
        return None if item is None else _record(item)

    def beat(self, session_id: str, task_id: str, attempt: int, beat: Beat) -> bool:
        """Update progress, liveness (and a checkpoint) only while RUNNING at ``attempt``; the
        expiry moves only later (a write never shortens what an earlier one meant to keep)."""
        values: dict[str, Any] = {
            ":p": {"N": repr(beat.progress)},
            ":h": {"N": repr(beat.at)},
            ":running": {"S": TaskStatus.RUNNING.value},
            ":a": {"N": str(attempt)},
        }
        names = {"#s": "status", "#a": "attempt", "#m": "message"}
        sets = ["progress = :p", "heartbeat_at = :h", "updated_at = :h"]
        removes = []
        fields: dict[str, str | None] = {"#m": beat.message}
        if beat.checkpoint is not None:
            names |= {"#c": "checkpoint", "#k": "checkpoint_key"}
            fields |= {"#c": beat.checkpoint[0], "#k": beat.checkpoint[1]}
        for name, value in fields.items():
            if value is None:
                removes.append(name)
            else:
                values[f":{name[1:]}"] = {"S": value}
                sets.append(f"{name} = :{name[1:]}")
        remove = " REMOVE " + ", ".join(removes) if removes else ""
        fenced = "#s = :running AND #a = :a"
        key = self._key(session_id, task_id)
        # No max() in an update expression: try with the later expiry, else (rarely) keep the stored one.
        if self._update(
            key,
            "SET " + ", ".join([*sets, "#e = :e"]) + remove,
            fenced + " AND #e <= :e",
            names | {"#e": TableSchema.TTL_ATTRIBUTE},
            values | {":e": {"N": str(beat.expires_at)}},
        ):
            return True
        return self._update(key, "SET " + ", ".join(sets) + remove, fenced, names, values)

    def _update(
        self, key: dict[str, Any], update: str, condition: str, names: dict[str, str], values: dict[str, Any]
    ) -> bool:
        """One conditional ``UpdateItem``; False when the condition does not hold."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
            return True
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise

    def transition(
        self, record: TaskRecord, expected: TaskStatus, attempt: int, *, beat_at: float | None = None
    ) -> bool:
        """Conditional put of the whole record: only over one that is ``expected`` at ``attempt``
        (and, with ``beat_at``, has not beaten since)."""
        condition = "#s = :expected AND #a = :a"
        names = {"#s": "status", "#a": "attempt"}
        values: dict[str, Any] = {":expected": {"S": expected.value}, ":a": {"N": str(attempt)}}
        if beat_at is not None:
            condition += " AND #hb = :hb"
            names["#hb"] = "heartbeat_at"
            values[":hb"] = {"N": repr(beat_at)}
        try:
            self._client.put_item(
                TableName=self._table,
                Item=_item(record),
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
            return True
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise

    def clear_announced(self, session_id: str, task_id: str, status: TaskStatus, attempt: int) -> bool:
        """An ``UpdateItem`` removing ``announce_pending`` (and, from a finished record, the open
        index attribute) only while the item is ``status`` at ``attempt``: never a put of a record
        image, which would undo a claim that passed the same condition alongside it on a store
        that checks and writes in separate steps (moto)."""
        names = {"#s": "status", "#a": "attempt", "#p": "announce_pending"}
        removed = "#p"
        if status.value not in UNFINISHED_STATUSES:  # nothing else keeps a finished record open
            names["#o"] = TableSchema.OPEN_ATTRIBUTE
            removed += ", #o"
        return self._update(
            self._key(session_id, task_id),
            f"REMOVE {removed}",
            "#s = :s AND #a = :a",
            names,
            {":s": {"S": status.value}, ":a": {"N": str(attempt)}},
        )

    def unfinished(self, session_id: str) -> list[TaskRecord]:
        """Live RUNNING and SUSPENDED records of the session, read through the sparse open index."""
        items = self._open_items(session_id)
        open_ones = (
            _record(item) for item in items if item.get("status", {}).get("S") in UNFINISHED_STATUSES
        )
        return [record for record in open_ones if live_now(record) is not None]

    def announcing(self, session_id: str) -> list[TaskRecord]:
        """Live records of the session that still owe an announcement, read through the open index."""
        owing = (_record(item) for item in self._open_items(session_id) if "announce_pending" in item)
        return [record for record in owing if live_now(record) is not None]

    def open_records(self, session_id: str) -> list[TaskRecord]:
        """Live records of the open index, unfinished or owing: one query for both reads above."""
        return [
            record for record in map(_record, self._open_items(session_id)) if live_now(record) is not None
        ]

    def _open_items(self, session_id: str) -> list[dict[str, Any]]:
        """Records in the open index: it costs reads in proportion to the session's open records,
        not its history. A global index answers only eventually consistent queries, so it names
        the keys and the records themselves are read consistently: membership changes only at
        create (a fresh lease, which a reader leaves alone) and once nothing is owed."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": TableSchema.OPEN_INDEX,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": TableSchema.PARTITION_KEY},
            "ExpressionAttributeValues": {":pk": {"S": session_id}},
        }
        keys: list[dict[str, Any]] = []
        while True:
            response = self._client.query(**params)
            keys += [self._key(session_id, item[TableSchema.SORT_KEY]["S"]) for item in response["Items"]]
            if not response.get("LastEvaluatedKey"):
                break
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return self._consistent_batch(keys)

    def _consistent_batch(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Strongly consistent reads of ``keys``, 100 per request, until none is left unprocessed."""
        items: list[dict[str, Any]] = []
        for first in range(0, len(keys), 100):
            request = {self._table: {"Keys": keys[first : first + 100], "ConsistentRead": True}}
            for retry in itertools.count():
                response = self._client.batch_get_item(RequestItems=request)
                items += response["Responses"].get(self._table, [])
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(1.0, 0.05 * 2**retry))  # keys left over under throttling: back off
        return sorted(items, key=lambda item: str(item[TableSchema.SORT_KEY]["S"]))

    def list(
        self, session_id: str, limit: int, cursor: Cursor | None, now: float, owner: str | None = None
    ) -> list[TaskRecord]:
        """Query the ``by_created_at`` LSI newest first, resuming after the cursor; records past
        their TTL (which DynamoDB deletes only eventually) and of other owners are filtered out."""
        values: dict[str, Any] = {":pk": {"S": session_id}, ":now": {"N": repr(now)}}
        if owner is None:
            mine = "attribute_not_exists(#owner)"
        else:
            mine, values[":owner"] = "#owner = :owner", {"S": owner}
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": TableSchema.CREATED_INDEX,
            "KeyConditionExpression": "#pk = :pk",
            "FilterExpression": f"#ttl >= :now AND {mine}",
            "ExpressionAttributeNames": {
                "#pk": TableSchema.PARTITION_KEY,
                "#ttl": TableSchema.TTL_ATTRIBUTE,
                "#owner": "owner",
            },
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor is not None:
            params["ExclusiveStartKey"] = {
                **self._key(session_id, cursor.task_id),
                TableSchema.CREATED_ATTRIBUTE: {"N": repr(cursor.created_at)},
            }
        records: list[TaskRecord] = []
        while len(records) < limit:
            response = self._client.query(**params)
            records += [_record(item) for item in response.get("Items", [])]
            last = response.get("LastEvaluatedKey")
            if not last:
                break
            params["ExclusiveStartKey"] = last
            params["Limit"] = limit - len(records)
        return records[:limit]

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()
