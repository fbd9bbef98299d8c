"""Task kinds: the work the agent can run in the background.

Add a kind: write one module exposing ``KIND = TaskKind(...)`` (see ``sleep.py``) and add its module
path here. ``AGENT_EXTRA_KINDS`` names more modules at run time, for kinds kept in your own package.
"""

from __future__ import annotations

from typing import Final

KIND_MODULES: Final = (
    "agent.kinds.sleep",
    "agent.kinds.agent_run",
    "agent.kinds.batch",
)
