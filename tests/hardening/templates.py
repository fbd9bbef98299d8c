"""Synthesize every stage of the CDK app once, for the template checks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from tests.support.agent_process import REPO_ROOT

STAGES: Final = ("dev", "staging", "prod")


@dataclass(frozen=True)
class Template:
    """One synthesized stack: its stage, name, template body and file on disk."""

    stage: str
    stack_name: str
    body: dict[str, Any]
    path: Path

    def resources(self, kind: str | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        """(logical id, resource) pairs, optionally of one CloudFormation type."""
        for logical_id, resource in self.body.get("Resources", {}).items():
            if kind is None or resource.get("Type") == kind:
                yield logical_id, resource


def synthesize(outdir: Path) -> list[Template]:
    """Every stack of every stage, synthesized with the app's own cdk.json context into ``outdir``."""
    from aws_cdk import App  # noqa: PLC0415 - jsii starts only when templates are needed

    from stacks.assembly import build  # noqa: PLC0415

    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    templates: list[Template] = []
    for stage in STAGES:
        app = App(context={**context, "stage": stage}, outdir=str(outdir / stage))
        build(app)
        assembly = app.synth()
        for stack in assembly.stacks:
            path = Path(assembly.directory) / stack.template_file
            templates.append(Template(stage, stack.stack_name, stack.template, path))
    return templates
