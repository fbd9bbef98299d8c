"""An agent command that cannot start: the caller gets RuntimeClientError, the emulator keeps serving."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator.harness import RunningEmulator, running_emulator, wait_until


@pytest.fixture(scope="module")
def broken() -> Iterator[RunningEmulator]:
    command = shlex.join([sys.executable, "-c", "import sys; sys.exit(3)"])
    with running_emulator(
        "--agent-command", command, "--startup-timeout", "5", "--ping-interval", "0.2"
    ) as running:
        yield running


def test_a_microvm_that_never_starts_is_a_runtime_client_error(broken: RunningEmulator) -> None:
    session_id = f"broken-{'2' * 30}"
    for _ in range(2):  # each call tries a new microVM; the emulator keeps answering
        with pytest.raises(ClientError) as caught:
            broken.boto().invoke_agent_runtime(
                agentRuntimeArn=broken.arn, runtimeSessionId=session_id, payload=b"{}"
            )
        assert caught.value.response["Error"]["Code"] == "RuntimeClientError"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 424
        assert "failed to start" in caught.value.response["Error"]["Message"]

    def both_ended() -> list[dict[str, Any]] | None:
        rows = broken.rows(session_id)
        return rows if len(rows) == 2 and all(row["state"] == "ended" for row in rows) else None

    rows = wait_until(both_ended, 10, "both microVMs to end")
    assert [row["end_reason"] for row in rows] == ["unhealthy", "unhealthy"]
