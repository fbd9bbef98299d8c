"""Task and storage metrics as CloudWatch embedded metric format (EMF) lines on stdout.

AgentCore writes the container's stdout to the runtime's log group, and CloudWatch Logs turns
every EMF line there into metric data points. So metrics need no exporter, no ``PutMetricData``
permission and no network: offline they are only printed. One JSON object per line:

    {"_aws": {"Timestamp": 1795904791250, "CloudWatchMetrics": [{"Namespace": "AgentCoreAsync",
      "Dimensions": [["Runtime", "Kind"], ["Runtime"]], "Metrics": [{"Name": "TasksCompleted",
      "Unit": "Count"}, ...]}]}, "Runtime": "agentcore_async_dev", "Kind": "sleep", "TasksCompleted": 1, ...}

Specification: "Specification: Embedded metric format", Amazon CloudWatch User Guide,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html

With ``AGENT_METRICS=put_metric_data`` the same data points go to CloudWatch with PutMetricData
(``agent/metric_sender.py``) instead, and no line is printed, so nothing is counted twice.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, Literal

from agent.metric_sender import MetricSender, data_points
from agent.records import TaskStatus
from agentcore_async.contract import TASK_STATE_METRICS, Metric

Unit = Literal["Count", "Seconds"]

_lock = threading.Lock()
_runtime = "local"
_sender: MetricSender | None = None


def bind_runtime(name: str) -> None:
    """Name the runtime every metric is recorded for (the ``Runtime`` dimension)."""
    global _runtime  # noqa: PLW0603 - one process, one runtime, like the logging configuration
    _runtime = name


def send_with(sender: MetricSender | None) -> None:
    """Send every metric with ``sender`` (PutMetricData) instead of printing it; None: print again."""
    global _sender  # noqa: PLW0603 - one process, one way of publishing
    _sender = sender


def emf_line(
    metrics: dict[str, tuple[float, Unit]],
    dimensions: dict[str, str],
    dimension_sets: list[list[str]],
    *,
    timestamp_ms: int,
) -> str:
    """One EMF document: ``metrics`` (name -> value, unit) under every set of ``dimensions``."""
    document: dict[str, Any] = {
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": Metric.NAMESPACE,
                    "Dimensions": dimension_sets,
                    "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in metrics.items()],
                }
            ],
        },
        **dimensions,
        **{name: value for name, (value, _) in metrics.items()},
    }
    return json.dumps(document, separators=(",", ":"))


def _emit(metrics: dict[str, tuple[float, Unit]], **dimensions: str) -> None:
    """Write one line; with a second dimension, also under ``[Runtime]`` alone (for alarms)."""
    named = {Metric.RUNTIME: _runtime, **dimensions}
    sets = [list(named), [Metric.RUNTIME]] if dimensions else [[Metric.RUNTIME]]
    timestamp_ms = int(time.time() * 1000)
    sender = _sender
    if sender is not None:
        sender.send(data_points(dict(metrics), named, sets, timestamp_ms))
        return
    line = emf_line(metrics, named, sets, timestamp_ms=timestamp_ms)
    with _lock:  # store retries are counted in the I/O threads
        # sys.stdout is looked up at each call, so a test's captured stdout sees the lines too.
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def task_started(kind: str) -> None:
    """A task of ``kind`` started (its record was created and its work launched)."""
    _emit({Metric.TASKS_STARTED: (1, "Count")}, **{Metric.KIND: kind})


def task_recorded(kind: str, status: TaskStatus, seconds_since_start: float) -> None:
    """A task's record was written into ``status``; a final one also records the task's duration."""
    metrics: dict[str, tuple[float, Unit]] = {TASK_STATE_METRICS[status.value]: (1, "Count")}
    if status.finished:
        metrics[Metric.TASK_DURATION] = (round(max(0.0, seconds_since_start), 3), "Seconds")
    _emit(metrics, **{Metric.KIND: kind})


def store_retry(store: str) -> None:
    """A storage driver retried a call to ``store`` (``dynamodb``, ``s3``, ``redis``)."""
    _emit({Metric.STORE_RETRIES: (1, "Count")}, **{Metric.STORE: store})


def store_failure(operation: str) -> None:
    """A storage call still failed after the driver's retries."""
    _emit({Metric.STORE_FAILURES: (1, "Count")}, **{Metric.OPERATION: operation})


def storage_unavailable_answer() -> None:
    """An invocation was answered ``StorageUnavailable``."""
    _emit({Metric.STORAGE_UNAVAILABLE: (1, "Count")})
