"""The DynamoDB table holding every task's status and (small) result."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from agentcore_async.contract import TableSchema


class ResultsTable(Construct):
    """On-demand table keyed by session and task, with a newest-first index per session and
    a sparse index of its open records."""

    def __init__(
        self, scope: Construct, construct_id: str, *, removal_policy: RemovalPolicy, deletion_protection: bool
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(
                name=TableSchema.PARTITION_KEY, type=dynamodb.AttributeType.STRING
            ),
            sort_key=dynamodb.Attribute(name=TableSchema.SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=TableSchema.TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            deletion_protection=deletion_protection,
            removal_policy=removal_policy,
        )
        # "List a session's tasks newest first": same partition, sorted by creation time.
        self.table.add_local_secondary_index(
            index_name=TableSchema.CREATED_INDEX,
            sort_key=dynamodb.Attribute(
                name=TableSchema.CREATED_ATTRIBUTE, type=dynamodb.AttributeType.NUMBER
            ),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        # "What must a new microVM act on": sparse, so resuming costs the open records, not the
        # session's history. Global, because an index can be added to a live table only so.
        self.table.add_global_secondary_index(
            index_name=TableSchema.OPEN_INDEX,
            partition_key=dynamodb.Attribute(
                name=TableSchema.PARTITION_KEY, type=dynamodb.AttributeType.STRING
            ),
            sort_key=dynamodb.Attribute(name=TableSchema.OPEN_ATTRIBUTE, type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY,
        )
