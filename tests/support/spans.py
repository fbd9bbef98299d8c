"""Read the spans ``OTEL_TRACES_EXPORTER=console`` prints (indented JSON objects) out of mixed output."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PrintedSpan:
    """One span as the SDK's console exporter prints it."""

    name: str
    trace_id: str
    span_id: str
    parent_id: str | None
    kind: str
    attributes: dict[str, Any]
    trace_state: str


def printed_spans(text: str) -> list[PrintedSpan]:
    """Every span in ``text``; log lines, EMF lines and partial output are skipped."""
    decoder = json.JSONDecoder()
    spans = []
    index = 0
    while (start := text.find("{\n", index)) >= 0:
        try:
            value, index = decoder.raw_decode(text, start)
        except ValueError:
            index = start + 1
            continue
        if isinstance(value, dict) and {"name", "context", "parent_id"} <= value.keys():
            spans.append(
                PrintedSpan(
                    name=value["name"],
                    trace_id=value["context"]["trace_id"].removeprefix("0x"),
                    span_id=value["context"]["span_id"].removeprefix("0x"),
                    parent_id=(value["parent_id"] or "").removeprefix("0x") or None,
                    kind=value["kind"],
                    attributes=value.get("attributes", {}),
                    trace_state=value["context"].get("trace_state", ""),
                )
            )
    return spans


def tree(spans: list[PrintedSpan], root: PrintedSpan) -> list[str]:
    """``root`` and its descendants, one indented line each (for failure messages and reading)."""
    lines = []

    def walk(span: PrintedSpan, depth: int) -> None:
        lines.append(f"{'  ' * depth}{span.name} {span.attributes.get('agent.task.id', '')}".rstrip())
        for child in spans:
            if child.parent_id == span.span_id:
                walk(child, depth + 1)

    walk(root, 0)
    return lines
