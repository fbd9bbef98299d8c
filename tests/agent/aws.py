"""Create the agent's DynamoDB table and S3 bucket on the moto server, as the stack would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import boto3

from agent.store.dynamodb import task_table_definition
from contract import TableSchema
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
