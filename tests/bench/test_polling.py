"""The seed's fixed-interval polling loop, end to end through the emulator with boto3."""

from __future__ import annotations

import time
from pathlib import Path

from bench.baselines.polling import poll_fixed_interval
from bench.environment import SEED, Environment, emulator
from bench.figures.emulated import counting_client
from bench.sessions import new_session_id


def test_sleeps_the_interval_before_every_poll_and_counts_each_invocation(tmp_path: Path) -> None:
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(seconds)

    env = Environment(workdir=tmp_path, moto_url="http://127.0.0.1:9")  # moto is not used here
    with emulator(env, SEED) as server:
        client = counting_client(server, new_session_id("polling-test"))
        task_id = client.start(0.5)
        result = poll_fixed_interval(client, task_id, interval=0.1, timeout=30, sleep=sleep)
    assert result.status == "COMPLETED"
    assert result.result == "Task completed after 0.5s"
    assert set(sleeps) == {0.1}
    # The first poll (0.1 s in) cannot see a 0.5 s task finished, so there are at least two polls,
    # and every poll is one invocation on top of the start.
    assert len(sleeps) >= 2
    assert client.invocations == 1 + len(sleeps)
