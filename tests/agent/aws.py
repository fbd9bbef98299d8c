"""Create the agent's DynamoDB table and S3 bucket on the moto server, as the stack would."""

from __future__ import annotations

import json
import sqlite3
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer

from agent.records import TaskRecord
from agent.store.dynamodb import task_table_definition
from agentcore_async.contract import SQLITE_RECORD_QUERY, TableSchema
from tests.support.servers import MotoServer


@dataclass(frozen=True)
class AwsResources:
    """A fresh table and bucket on the moto server, and clients to inspect them."""

    endpoint: str
    table: str
    bucket: str
    dynamodb: Any
    s3: Any

    def env(self) -> dict[str, str]:
        """Agent environment pointing at these resources through ``AWS_ENDPOINT_URL``."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AGENT_TABLE_NAME": self.table,
            "AGENT_BUCKET_NAME": self.bucket,
        }

    def item(self, session_id: str, task_id: str) -> dict[str, Any] | None:
        """The raw DynamoDB item of a task."""
        response = self.dynamodb.get_item(
            TableName=self.table,
            Key={TableSchema.PARTITION_KEY: {"S": session_id}, TableSchema.SORT_KEY: {"S": task_id}},
            ConsistentRead=True,
        )
        item: dict[str, Any] | None = response.get("Item")
        return item


def create_resources(moto: MotoServer) -> AwsResources:
    """Table with the stack's key schema, ``by_created_at`` LSI and TTL; an empty bucket."""
    dynamodb = boto3.client("dynamodb", endpoint_url=moto.url)
    s3 = boto3.client("s3", endpoint_url=moto.url)
    suffix = uuid.uuid4().hex[:12]
    table, bucket = f"agent-tasks-{suffix}", f"agent-results-{suffix}"
    dynamodb.create_table(**task_table_definition(table))
    dynamodb.update_time_to_live(
        TableName=table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TableSchema.TTL_ATTRIBUTE},
    )
    s3.create_bucket(Bucket=bucket)
    return AwsResources(endpoint=moto.url, table=table, bucket=bucket, dynamodb=dynamodb, s3=s3)


@dataclass(frozen=True)
class Records:
    """Where agents keep task records: the DynamoDB table, or (``backend`` "sqlite") the SQLite file
    at ``sqlite_path``; large results and checkpoints go to the bucket either way."""

    backend: str
    aws: AwsResources
    sqlite_path: Path

    def env(self) -> dict[str, str]:
        """Agent environment for these records and the bucket."""
        env = self.aws.env()
        if self.backend == "sqlite":
            del env["AGENT_TABLE_NAME"]
        return env

    def get(self, session: str, task_id: str) -> TaskRecord | None:
        """The stored record, read beside the agent (an invocation would resume the task)."""
        if self.backend == "dynamodb":
            item = self.aws.item(session, task_id)
            if item is None:
                return None
            deserialize = TypeDeserializer().deserialize
            return TaskRecord.from_item({key: deserialize(value) for key, value in item.items()})
        with closing(sqlite3.connect(self.sqlite_path)) as conn:
            row = conn.execute(SQLITE_RECORD_QUERY, (session, task_id)).fetchone()
        return None if row is None else TaskRecord.from_item(json.loads(row[0]))
