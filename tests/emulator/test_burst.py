"""A burst of new sessions: every call is served or throttled the way AWS throttles, none hangs.

AWS's throttling answer: ThrottlingException with HTTP status 429 (Amazon Bedrock AgentCore
Developer Guide, "AgentCore provided runtime metrics", Throttles;
https://docs.aws.amazon.com/bedrock-agentcore/latest/devguide/observability-runtime-metrics.html)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator.conftest import STANDARD_FLAGS
from tests.emulator.harness import RunningEmulator, running_emulator

BURST = 75
STARTUP_SECONDS = 4.0
"""Time from a microVM's process start to its first ping: shorter than the queue, which it excludes."""
QUEUE_SECONDS = 8.0
"""How long a new session's first call may wait for a microVM to start before it is throttled."""
SLACK = 6.0
"""Time beyond the queue bound for a boot, the answer and a loaded machine."""


def first_call(emulator: RunningEmulator, client: Any, start: threading.Barrier) -> tuple[str, float]:
    """``served`` or ``throttled`` (else the error), and how long the call took."""
    start.wait()
    began = time.monotonic()
    try:
        answer = client.invoke_agent_runtime(
            agentRuntimeArn=emulator.arn,
            runtimeSessionId=f"burst-{uuid.uuid4().hex}",
            payload=b'{"action": "list_kinds"}',
        )
        assert "kinds" in json.loads(answer["response"].read())
        outcome = "served"
    except ClientError as error:
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        code, message = error.response["Error"]["Code"], error.response["Error"]["Message"]
        throttled = (status, code, message) == (429, "ThrottlingException", "Rate exceeded")
        outcome = "throttled" if throttled else f"{status} {code}: {message}"
    return outcome, time.monotonic() - began


@pytest.mark.slow
def test_a_burst_of_new_sessions_is_served_or_throttled_and_none_hangs() -> None:
    flags = (
        *STANDARD_FLAGS,
        *("--startup-timeout", f"{STARTUP_SECONDS:g}", "--boot-queue-timeout", f"{QUEUE_SECONDS:g}"),
        "--quiet-agent",
    )
    with running_emulator(*flags) as emulator:
        # One attempt per call (botocore would retry a throttled call): each answer is the first one.
        client = emulator.boto(max_pool_connections=BURST, read_timeout=60, retries={"total_max_attempts": 1})
        start = threading.Barrier(BURST)
        began = time.monotonic()
        with ThreadPoolExecutor(BURST) as pool:
            outcomes = list(pool.map(lambda _: first_call(emulator, client, start), range(BURST)))
        elapsed = time.monotonic() - began

        kinds = [outcome for outcome, _ in outcomes]
        assert set(kinds) <= {"served", "throttled"}, sorted(set(kinds))
        served = kinds.count("served")
        assert served >= 2, kinds  # the boots that were allowed went through
        assert elapsed < QUEUE_SECONDS + 2 * SLACK, elapsed
        assert max(took for _, took in outcomes) < QUEUE_SECONDS + SLACK
        # Some served call waited longer than the start-up timeout: its queued time did not count.
        assert max(took for outcome, took in outcomes if outcome == "served") > STARTUP_SECONDS
        # A throttled call left no microVM behind; every served one is running.
        rows = emulator.table()["sessions"]
        assert sorted(row["state"] for row in rows) == ["running"] * served, rows
