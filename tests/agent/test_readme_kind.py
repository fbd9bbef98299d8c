"""The README's "Write your own task" example, taken from the README as written and run in a real agent:
registered by module path, described by list_kinds, run to its result, refusing bad input by path and
failing with its own error code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.helpers import eventually, get_task, new_session
from tests.support.agent_process import FAST_TIMERS, REPO_ROOT, AgentProcess, running_agent

SECTION = "### Write your own task"


def readme_example() -> str:
    """The first python block of the README section (the whole kind module)."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index(SECTION) :]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "the README's Write your own task section has no python block"
    return match.group(1)


@pytest.fixture
def agent_with_example(tmp_path: Path) -> Iterator[AgentProcess]:
    package = tmp_path / "my_kinds"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "word_count.py").write_text(readme_example())
    env = {
        **FAST_TIMERS,
        "AGENT_SQLITE_PATH": str(tmp_path / "tasks.sqlite3"),
        "AGENT_EXTRA_KINDS": "tests.support.once_kind,my_kinds.word_count",
        "PYTHONPATH": f"{REPO_ROOT}:{tmp_path}",
    }
    with running_agent(env) as agent:
        yield agent


def test_the_readme_example_kind_runs_as_written(agent_with_example: AgentProcess) -> None:
    agent = agent_with_example
    session = new_session()
    _status, body = agent.invoke({"action": "list_kinds"}, session)
    [kind] = [kind for kind in body["kinds"] if kind["name"] == "word_count"]
    assert kind["resumable"] is True
    assert kind["input_schema"]["properties"]["documents"]["type"] == "array"

    documents = ["one two three", "four five", "six"]
    _status, started = agent.invoke(
        {"action": "start_task", "kind": "word_count", "input": {"documents": documents}}, session
    )
    done = get_task(agent, started["task_id"], session, wait=20)
    assert (done["status"], done["result"]) == ("COMPLETED", {"counts": [3, 2, 1], "words": 6})
    assert done["message"] == "3 of 3 documents"
    # The kind logs without naming ids; the task's context adds them to its lines.
    [counted] = [r for r in agent.log_records() if r.get("message") == "counted"]
    assert (counted["session_id"], counted["task_id"], counted["attempt"]) == (session, started["task_id"], 1)

    _status, refused = agent.invoke(
        {"action": "start_task", "kind": "word_count", "input": {"documents": ["a", 7]}}, session
    )
    assert refused["error"]["code"] == "InvalidField"
    assert refused["error"]["message"].startswith("input.documents.1:")

    _status, empty = agent.invoke(
        {"action": "start_task", "kind": "word_count", "input": {"documents": ["a", " "]}}, session
    )
    failed = eventually(
        lambda: (view := get_task(agent, empty["task_id"], session, wait=5))["status"] != "RUNNING" and view
    )
    assert (failed["status"], failed["error"]["code"]) == ("FAILED", "EmptyDocument")
