"""The shared servers really serve: redis answers commands, moto answers boto3 over HTTP."""

from __future__ import annotations

import boto3
import redis

from tests.support.servers import MotoServer, RedisServer


def test_redis_server_stores_and_returns_a_value(redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url)
    client.set("k", "v", ex=5)
    assert client.get("k") == b"v"


def test_moto_server_answers_boto3_over_http(moto_server: MotoServer) -> None:
    s3 = boto3.client("s3", endpoint_url=moto_server.url, region_name="us-east-1")
    s3.create_bucket(Bucket="support-check")
    s3.put_object(Bucket="support-check", Key="a", Body=b"x")
    assert s3.get_object(Bucket="support-check", Key="a")["Body"].read() == b"x"
