"""Synthesize every stage of the CDK app once, for the template checks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from agentcore_async.contract import stack_name

if TYPE_CHECKING:
    from tests.infra.synth import AllSynths, VariantSynths

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


def stage_templates(synthesized: AllSynths) -> list[Template]:
    """Every stack of every stage at its default preset, from the session's one synthesis."""
    from stacks.stages import STAGES as STAGE_CONFIGS  # noqa: PLC0415 - loads aws_cdk

    templates: list[Template] = []
    for stage in STAGES:
        synth = synthesized[stage, STAGE_CONFIGS[stage].default_lifecycle]
        for part, body in synth.templates.items():
            name = stack_name(stage, part)  # type: ignore[arg-type]
            templates.append(Template(stage, name, body, synth.outdir / f"{name}.template.json"))
    return templates


def variant_runtime_templates(variants: VariantSynths) -> list[Template]:
    """The Runtime stack of each feature variant (the only stack a variant changes)."""
    templates = []
    for synth in variants.values():
        name = stack_name(synth.stage, "Runtime")
        templates.append(
            Template(synth.stage, name, synth.template("Runtime"), synth.outdir / f"{name}.template.json")
        )
    return templates
