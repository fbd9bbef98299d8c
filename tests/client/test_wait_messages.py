"""``wait`` with the endpoint down says what it waits for and why, at each backoff."""

from __future__ import annotations

import io
import re
import uuid

from agentcore_async.client.cli import main
from agentcore_async.client.exit_codes import ExitCode
from tests.support.servers import free_port

ARN = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/async_agent-AbCdEfGh12"


class Terminal(io.StringIO):
    """Error output that says it is a terminal, so ``wait`` draws its progress bar."""

    def isatty(self) -> bool:
        return True


def wait_on_a_dead_endpoint(task_id: str, err: io.StringIO, *flags: str) -> int:
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    argv = ["wait", task_id, "--endpoint-url", down, "--runtime-arn", ARN]
    argv += ["--session-id", f"down-{uuid.uuid4().hex}", "--timeout", "5", "--long-poll", "1", *flags]
    return main(argv, out=io.StringIO(), err=err)


def test_off_a_terminal_each_backoff_is_a_line() -> None:
    task_id = str(uuid.uuid4())
    err = io.StringIO()
    assert wait_on_a_dead_endpoint(task_id, err) == ExitCode.TIMEOUT
    lines = err.getvalue().splitlines()
    retries = [line for line in lines if line.startswith(f"waiting for {task_id}: ")]
    assert retries, lines
    reason = "EndpointConnectionError: Could not connect to the endpoint URL: .+"
    pattern = rf"waiting for {task_id}: {reason}; retrying in \d+\.\ds"
    assert all(re.fullmatch(pattern, line) for line in retries), retries
    assert lines[-1].startswith("timed out after 5s; last error EndpointConnectionError: Could not connect")


def test_on_a_terminal_the_progress_bar_says_why() -> None:
    task_id = str(uuid.uuid4())
    err = Terminal()
    assert wait_on_a_dead_endpoint(task_id, err) == ExitCode.TIMEOUT
    drawn = err.getvalue()
    assert f"{task_id[:8]} waiting" in drawn  # the bar
    assert re.search(r"retrying in \d+\.\ds: EndpointConnectionError: Could not connect", drawn)  # its status
    assert f"waiting for {task_id}:" not in drawn  # the bar, not lines


def test_on_a_terminal_without_the_bar_each_backoff_is_a_line() -> None:
    task_id = str(uuid.uuid4())
    err = Terminal()
    assert wait_on_a_dead_endpoint(task_id, err, "--no-progress") == ExitCode.TIMEOUT
    assert f"waiting for {task_id}: EndpointConnectionError" in err.getvalue()
