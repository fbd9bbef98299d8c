"""The README's code blocks, each with what the snippet test does with it.

A marker comment on the line before a fence says how a block runs; a ``bash`` block without one is
run as written and must exit 0:

- ``<!-- snippet: server on port N -->``: a server, left running in the background; ready once port
  N answers. A ``make`` line in it runs its recipe (``make -n``, tools assumed installed).
- ``<!-- snippet: dry run (why) -->``: each ``make`` line must be a valid target (``make -n``).
- ``<!-- snippet: not run (why) -->``: needs what a test cannot have (AWS, Bedrock); says why.
- ``<!-- snippet: python, ... -->``: a ``python`` block run with the checkout's interpreter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

FENCE: Final = re.compile(r"^```(\w+)\n(.*?)^```\n", re.DOTALL | re.MULTILINE)
MARKER: Final = re.compile(r"<!-- snippet: (.+?) -->\n$")
RUN_LANGUAGES: Final = ("bash", "python")


@dataclass(frozen=True)
class Snippet:
    """One block: where it is, its text and what the test does with it."""

    line: int
    language: str
    text: str
    mode: str
    """``run``, ``server``, ``dry-run``, ``not-run`` or ``python``."""
    note: str
    port: int | None = None

    @property
    def name(self) -> str:
        """``README.md:<line>``, how failures name the block."""
        return f"README.md:{self.line}"


def _mode(marker: str | None, language: str) -> tuple[str, str, int | None]:
    if marker is None:
        return ("run" if language == "bash" else "not-run", "", None)
    if match := re.fullmatch(r"server on port (\d+)", marker):
        return "server", marker, int(match.group(1))
    for prefix, mode in (("dry run", "dry-run"), ("not run", "not-run"), ("python", "python")):
        if marker.startswith(prefix):
            return mode, marker, None
    raise ValueError(f"unknown snippet marker: {marker!r}")


def snippets(readme: Path) -> list[Snippet]:
    """Every ``bash`` and ``python`` block of ``readme``, in order."""
    text = readme.read_text(encoding="utf-8")
    found: list[Snippet] = []
    for fence in FENCE.finditer(text):
        language, body = fence.group(1), fence.group(2)
        if language not in RUN_LANGUAGES:
            continue
        before = text[: fence.start()]
        marker = MARKER.search(before[-300:])
        mode, note, port = _mode(marker.group(1) if marker else None, language)
        line = before.count("\n") + 1
        found.append(Snippet(line=line, language=language, text=body, mode=mode, note=note, port=port))
    return found


def commands(snippet: Snippet) -> list[str]:
    """The block's command lines, without comments and blank lines."""
    lines = []
    for raw in snippet.text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines
