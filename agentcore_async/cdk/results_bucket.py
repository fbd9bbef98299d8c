"""The S3 bucket for results too large for a table item, plus its access-log bucket."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from agentcore_async.contract import RESULTS_PREFIX


class ResultsBucket(Construct):
    """Private, TLS-only, encrypted bucket whose results expire after a stage-chosen number of days."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        expiry_days: int,
        versioned: bool,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        auto_delete = removal_policy == RemovalPolicy.DESTROY
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(id="expire-access-logs", expiration=Duration.days(90))],
            removal_policy=removal_policy,
            auto_delete_objects=auto_delete,
        )
        lifecycle_rules = [
            s3.LifecycleRule(
                id="expire-results", prefix=RESULTS_PREFIX, expiration=Duration.days(expiry_days)
            ),
            s3.LifecycleRule(
                id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)
            ),
        ]
        if versioned:
            lifecycle_rules.append(
                s3.LifecycleRule(
                    id="expire-old-versions", noncurrent_version_expiration=Duration.days(expiry_days)
                )
            )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=versioned,
            lifecycle_rules=lifecycle_rules,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="results-bucket/",
            removal_policy=removal_policy,
            auto_delete_objects=auto_delete,
        )
