"""Read CloudWatch embedded metric format (EMF) lines out of a process's output, checking each one.

The rules are those of "Specification: Embedded metric format" (Amazon CloudWatch User Guide,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
a root ``_aws`` object with an integer millisecond ``Timestamp`` and ``CloudWatchMetrics``
directives; each directive names a ``Namespace``, ``Dimensions`` (arrays of at most 30 dimension
keys, each a string member of the root) and ``Metrics`` (at most 100, each with a ``Name`` that
is a numeric member of the root, and a valid ``Unit``).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, Final

MAX_DIMENSIONS: Final = 30
MAX_METRICS: Final = 100
UNITS: Final = frozenset(
    {
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    }
)
"""CloudWatch's units (the ``StandardUnit`` values of ``MetricDatum``)."""


def emf_problems(document: dict[str, Any]) -> list[str]:
    """Why ``document`` is not a valid EMF document (empty when it is)."""
    meta = document.get("_aws")
    if not isinstance(meta, dict):
        return ["no _aws object"]
    problems = []
    if not isinstance(meta.get("Timestamp"), int) or isinstance(meta.get("Timestamp"), bool):
        problems.append("_aws.Timestamp is not an integer (milliseconds)")
    directives = meta.get("CloudWatchMetrics")
    if not isinstance(directives, list) or not directives:
        return [*problems, "_aws.CloudWatchMetrics is not a non-empty array"]
    for directive in directives:
        problems += _directive_problems(directive, document)
    return problems


def _directive_problems(directive: dict[str, Any], document: dict[str, Any]) -> list[str]:
    problems = []
    if not isinstance(directive.get("Namespace"), str) or not directive["Namespace"]:
        problems.append("a directive has no Namespace")
    for dimension_set in directive.get("Dimensions", []):
        if len(dimension_set) > MAX_DIMENSIONS:
            problems.append(f"dimension set {dimension_set} has more than {MAX_DIMENSIONS} keys")
        problems += [
            f"dimension {key!r} is not a string member of the root"
            for key in dimension_set
            if not isinstance(document.get(key), str)
        ]
    metrics = directive.get("Metrics", [])
    if not metrics or len(metrics) > MAX_METRICS:
        problems.append(f"a directive has {len(metrics)} metrics (1 to {MAX_METRICS})")
    for metric in metrics:
        value = document.get(metric.get("Name"))
        if not isinstance(value, int | float) or isinstance(value, bool):
            problems.append(f"metric {metric.get('Name')!r} has no numeric value in the root")
        if metric.get("Unit", "None") not in UNITS:
            problems.append(f"metric {metric.get('Name')!r} has the unit {metric.get('Unit')!r}")
    return problems


@dataclass(frozen=True)
class Point:
    """One metric value of one EMF line, with the line's dimensions."""

    namespace: str
    name: str
    value: float
    unit: str
    dimensions: dict[str, str]
    dimension_sets: tuple[tuple[str, ...], ...]


def emf_points(text: str) -> list[Point]:
    """Every metric value in the EMF lines of ``text`` (other lines are skipped); an EMF line that
    breaks the specification fails the test."""
    points = []
    for line in text.splitlines():
        if '"_aws"' not in line:
            continue
        document = json.loads(line)
        assert not emf_problems(document), (emf_problems(document), line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            sets = tuple(tuple(keys) for keys in directive["Dimensions"])
            keys = {key for keys in sets for key in keys}
            for metric in directive["Metrics"]:
                points.append(
                    Point(
                        namespace=directive["Namespace"],
                        name=metric["Name"],
                        value=document[metric["Name"]],
                        unit=metric.get("Unit", "None"),
                        dimensions={key: document[key] for key in keys},
                        dimension_sets=sets,
                    )
                )
    return points


def counts(points: list[Point], **dimensions: str) -> Counter[str]:
    """Sum of each counter (unit ``Count``) over the points carrying ``dimensions``."""
    counted: Counter[str] = Counter()
    for point in points:
        if point.unit == "Count" and all(point.dimensions.get(k) == v for k, v in dimensions.items()):
            counted[point.name] += int(point.value)
    return counted
