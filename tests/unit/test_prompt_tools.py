"""The prompt path offers every registered kind as a strands tool whose input schema is the kind's
input model, beside the tools that read, cancel and list tasks."""

from __future__ import annotations

import pytest

from agent.prompt import task_tools
from agent.service import create_app
from agent.settings import load_settings
from tests.unit.conftest import UNIT_ENV

pytestmark = pytest.mark.unit

MANAGEMENT_TOOLS = {"get_task_result", "cancel_task", "list_tasks"}


def test_every_kind_is_a_tool_with_its_input_model_as_schema() -> None:
    app = create_app(load_settings(UNIT_ENV))
    engine = app.state.engine
    tools = {
        tool.tool_name: tool.tool_spec
        for tool in task_tools(engine, "unit-session-0000000000000000000000001")
    }
    kinds = list(engine.kinds)
    assert {"sleep", "batch", "agent_run", "once"} <= {kind.name for kind in kinds}
    assert set(tools) == {f"start_{kind.name}" for kind in kinds} | MANAGEMENT_TOOLS
    for kind in kinds:
        spec = tools[f"start_{kind.name}"]
        assert spec["inputSchema"]["json"] == kind.input_model.model_json_schema(), kind.name
        assert kind.description in spec["description"]
    for name in MANAGEMENT_TOOLS - {"list_tasks"}:
        assert tools[name]["inputSchema"]["json"]["required"] == ["task_id"]
