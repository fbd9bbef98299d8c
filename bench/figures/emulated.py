"""Clients that reach an agent through the emulator, exactly as users reach AWS."""

from __future__ import annotations

from typing import Any

from agentcore_async.client.api import boto_client
from agentcore_async.client.target import Target
from bench.baselines.polling import CountingClient
from bench.processes import Server
from emulator.config import DEFAULT_RUNTIME_ARN


def counting_client(emulator: Server, session_id: str, long_poll_seconds: int = 20) -> CountingClient:
    """A fresh boto3-backed client in ``session_id`` that counts its invocations."""
    target = Target(runtime_arn=DEFAULT_RUNTIME_ARN, endpoint_url=emulator.url, region="us-east-1")
    boto: Any = boto_client(target)
    return CountingClient(
        boto, runtime_arn=target.runtime_arn, session_id=session_id, long_poll_seconds=long_poll_seconds
    )
