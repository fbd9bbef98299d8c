"""The seed's fixed-interval polling loop, end to end through the emulator with boto3."""

from __future__ import annotations

import time
from pathlib import Path

from bench.baselines.polling import poll_fixed_interval
from bench.environment import SEED, Environment, emulator
from bench.figures.emulated import counting_client
from bench.sessions import new_session_id


def test_polls_every_interval_until_completed_and_counts_each_invocation(tmp_path: Path) -> None:
    env = Environment(workdir=tmp_path, moto_url="http://127.0.0.1:9")  # moto is not used here
    with emulator(env, SEED) as server:
        client = counting_client(server, new_session_id("polling-test"))
        task_id = client.start(0.5)
        started = time.monotonic()
        result = poll_fixed_interval(client, task_id, interval=0.1, timeout=30)
        elapsed = time.monotonic() - started
    assert result.status == "COMPLETED"
    assert result.result == "Task completed after 0.5s"
    assert elapsed >= 0.5
    # One start, then one call per 0.1 s interval until the 0.5 s task was done: at least 5 polls.
    assert client.invocations >= 1 + 5
    assert client.invocations <= 1 + int(elapsed / 0.1) + 1
