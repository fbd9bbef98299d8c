"""Sends the agent's metrics with CloudWatch PutMetricData (``AGENT_METRICS=put_metric_data``).

Callers only queue data points; one background thread sends them in batches with botocore's
retries. A full queue drops points and a failed call loses its batch, with a warning: metrics
never block or fail a task.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import UTC, datetime
from typing import Any, Final

from agentcore_async.contract import Metric

log = logging.getLogger("agent.metrics")

BATCH: Final = 100
"""Data points per PutMetricData call (the API takes up to 1,000 per request)."""
QUEUE_LIMIT: Final = 10_000
FLUSH_SECONDS: Final = 1.0
"""How long a point waits at most for others to fill its batch."""


def cloudwatch_client() -> Any:
    """A CloudWatch client of the agent's region, with botocore's standard retries and short
    timeouts (the sending thread is the only one that waits for them)."""
    import boto3  # noqa: PLC0415 - only this mode needs it
    from botocore.config import Config  # noqa: PLC0415

    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)
    return boto3.client("cloudwatch", config=config)


def data_points(
    metrics: dict[str, tuple[float, str]],
    dimensions: dict[str, str],
    dimension_sets: list[list[str]],
    timestamp_ms: int,
) -> list[dict[str, Any]]:
    """The ``MetricData`` entries of what one EMF line says: every metric under every set."""
    when = datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
    return [
        {
            "MetricName": name,
            "Dimensions": [{"Name": key, "Value": dimensions[key]} for key in names],
            "Timestamp": when,
            "Value": value,
            "Unit": unit,
        }
        for names in dimension_sets
        for name, (value, unit) in metrics.items()
    ]


class MetricSender:
    """A queue of data points and the daemon thread that puts them."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(QUEUE_LIMIT)
        self._idle = threading.Condition()
        self._pending = 0
        self.dropped = 0
        self.failed_calls = 0
        threading.Thread(target=self._run, name="metric-sender", daemon=True).start()

    def send(self, points: list[dict[str, Any]]) -> None:
        """Queue ``points``; never waits (a full queue drops them)."""
        for point in points:
            try:
                with self._idle:
                    self._pending += 1
                self._queue.put_nowait(point)
            except queue.Full:
                self._done(1)
                self.dropped += 1

    def flush(self, timeout: float) -> bool:
        """Wait until every queued point was sent or given up on; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _done(self, count: int) -> None:
        with self._idle:
            self._pending -= count
            self._idle.notify_all()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < BATCH:
                try:
                    batch.append(self._queue.get(timeout=FLUSH_SECONDS if len(batch) == 1 else 0.05))
                except queue.Empty:
                    break
            try:
                self._client.put_metric_data(Namespace=Metric.NAMESPACE, MetricData=batch)
            except Exception as exc:
                self.failed_calls += 1
                log.warning("PutMetricData failed, %d data points lost: %s", len(batch), exc)
            finally:
                self._done(len(batch))
