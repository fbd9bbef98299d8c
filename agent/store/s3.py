"""S3 storage for large results, under ``RESULTS_PREFIX``."""

from __future__ import annotations

import hashlib

import boto3

from agent.records import TaskRecord
from agent.store.retries import aws_config, counting_retries
from agent.work import owner_hash
from agentcore_async.contract import RESULTS_PREFIX


def result_key(record: TaskRecord) -> str:
    """``results/<sha256(session)>/<task_id>``, with ``<sha256(owner)>/`` before the task id for a
    task that belongs to a caller: session ids and identities may hold characters unfit for keys."""
    session_hash = hashlib.sha256(record.session_id.encode()).hexdigest()
    owner = "" if record.owner is None else f"{owner_hash(record.owner)}/"
    return f"{RESULTS_PREFIX}{session_hash}/{owner}{record.task_id}"


class S3Blobs:
    """Put, get and presign result objects (client honours ``AWS_ENDPOINT_URL``)."""

    def __init__(self, bucket: str, *, attempts: int = 4, max_connections: int = 32) -> None:
        self._bucket = bucket
        config = aws_config(
            attempts=attempts, max_connections=max_connections, read_timeout=30, signature_version="s3v4"
        )
        self._client = counting_retries(boto3.session.Session().client("s3", config=config), "s3")

    def put(self, key: str, data: bytes) -> None:
        """Upload ``data`` (server-side encrypted by the bucket's default)."""
        self._client.put_object(
            Bucket=self._bucket, Key=key, Body=data, ContentType="text/plain; charset=utf-8"
        )

    def get(self, key: str) -> bytes:
        """Download the object."""
        body: bytes = self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        return body

    def presign(self, key: str, expires_in: int) -> str:
        """A GET URL valid for ``expires_in`` seconds."""
        url: str = self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_in
        )
        return url
