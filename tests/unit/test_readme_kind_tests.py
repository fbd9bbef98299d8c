"""The README's kind tests ("Test your kind without servers"), run as written against the README's
``word_count`` example: both blocks are taken from the README, so neither can drift."""

from __future__ import annotations

import re
import sys
import types

import pytest

from tests.support.agent_process import REPO_ROOT

pytestmark = pytest.mark.unit

SECTION = "### Write your own task"


def _python_blocks() -> list[str]:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index(SECTION) :]
    return re.findall(r"```python\n(.*?)```", section, re.DOTALL)


def test_the_readme_kind_tests_pass_against_the_readme_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    kind_source, tests_source = _python_blocks()[:2]
    assert "run_kind" in tests_source
    module = types.ModuleType("agent.kinds.word_count")
    exec(compile(kind_source, "README word_count", "exec"), module.__dict__)
    monkeypatch.setitem(sys.modules, "agent.kinds.word_count", module)
    tests: dict[str, object] = {"__name__": "readme_kind_tests"}
    exec(compile(tests_source, "README kind tests", "exec"), tests)
    ran = [name for name, test in tests.items() if name.startswith("test_") and callable(test) and not test()]
    assert len(ran) == 3
