"""The nemesis's store set-up: the store exists before the first fault, as a deployed table does."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from nemesis.services import store_services


def test_a_record_can_be_poisoned_before_any_agent_has_started(tmp_path: Path) -> None:
    """Seed 1 on Redis once ended at once with "no such table: tasks": its first fault, a poisoned
    record, came before the first agent process had created the SQLite schema."""
    with store_services("sqlite", tmp_path) as handles:
        task_id = handles.poison("nemesis-session")
        assert handles.sqlite_path is not None
        with sqlite3.connect(handles.sqlite_path) as conn:
            rows = conn.execute("SELECT task_id FROM tasks").fetchall()
    assert rows == [(task_id,)]
