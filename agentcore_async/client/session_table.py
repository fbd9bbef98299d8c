"""Read the emulator's session table (``GET /sessions``); AWS has no such endpoint."""

from __future__ import annotations

import json
import urllib.request
from typing import Any


def fetch_session_table(endpoint_url: str, *, timeout: float = 10.0) -> dict[str, Any]:
    """The emulator's table: timers plus one row per microVM, newest first.

    Raises ``OSError`` (including ``urllib.error.URLError``) or ``ValueError`` on failure.
    """
    url = endpoint_url.rstrip("/") + "/sessions"
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) endpoint: {endpoint_url}")
    with urllib.request.urlopen(url, timeout=timeout) as response:
        table = json.loads(response.read())
    if not isinstance(table, dict):
        raise ValueError("the session table is not a JSON object")
    return table


def microvms(table: dict[str, Any], session_id: str) -> list[dict[str, Any]]:
    """The rows of one session, oldest microVM first."""
    rows = [row for row in table.get("sessions", []) if row.get("session_id") == session_id]
    return sorted(rows, key=lambda row: int(row["microvm"]))
