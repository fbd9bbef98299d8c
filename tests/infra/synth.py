"""Synthesize the CDK app for one stage and preset, the way ``cdk synth`` does, and read it back."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

# jsii prints a banner for old Node versions; set before aws_cdk is imported.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from agentcore_async.contract import PRESET_NAMES, PresetName
from stacks.assembly import build
from stacks.stages import STAGE_NAMES, StageName

ROOT: Final = Path(__file__).resolve().parents[2]
FEATURE_FLAGS: Final[dict[str, Any]] = json.loads((ROOT / "cdk.json").read_text())["context"]
Key = tuple[StageName, PresetName]
COMBINATIONS: Final[list[Key]] = [(stage, preset) for stage in STAGE_NAMES for preset in PRESET_NAMES]
EXTERNAL_DISCOVERY_URL: Final = "https://login.example.com/realms/agents/.well-known/openid-configuration"
VARIANTS: Final[dict[str, tuple[StageName, PresetName, dict[str, str]]]] = {
    "jwt-cognito": ("dev", "development", {"auth": "jwt"}),
    "jwt-external": (
        "prod",
        "long-running",
        {
            "auth": "jwt",
            "jwt_discovery_url": EXTERNAL_DISCOVERY_URL,
            "jwt_audiences": "agentcore-async",
            "jwt_clients": "cli-client,batch-client",
        },
    ),
    "endpoint-live": ("staging", "interactive", {"endpoint": "live"}),
    "example": ("dev", "development", {"example_state_machine": "true"}),
}
"""Feature switches synthesized once each on one stage: only their Runtime stack differs from the
stage's own (snapshots, cdk-nag, cfn-lint, the AWS rules and the IAM walk cover them)."""
PARTS: Final = ("Network", "Storage", "Image", "Runtime")

Template = dict[str, Any]
Resource = dict[str, Any]


@dataclass(frozen=True)
class NagFinding:
    """One unacknowledged AwsSolutions violation."""

    rule: str
    paths: tuple[str, ...]


@dataclass(frozen=True)
class Synthesized:
    """The synthesized app of one stage and lifecycle preset."""

    stage: StageName
    preset: PresetName
    templates: dict[str, Template]
    """By stack part: ``Network`` (VPC stages only), ``Storage``, ``Image``, ``Runtime``."""
    dependencies: dict[str, list[str]]
    """Stack name -> names of the stacks it must be deployed after (from the cloud assembly)."""
    outdir: Path
    """The cloud assembly directory, with staged assets."""
    nag_findings: list[NagFinding] = field(default_factory=list)

    def template(self, part: str) -> Template:
        """The template of one stack part."""
        return self.templates[part]


AllSynths = dict[Key, Synthesized]
"""Every stage x preset, as the session fixture shares them."""
VariantSynths = dict[str, Synthesized]
"""Each of :data:`VARIANTS` by name."""


def synthesize(
    stage: StageName, preset: PresetName, outdir: Path, extra: dict[str, str] | None = None
) -> Synthesized:
    """Build and synthesize the app with the same feature flags ``cdk synth`` reads from cdk.json
    (and ``extra`` context, like ``-c auth=jwt``)."""
    context = {**FEATURE_FLAGS, "stage": stage, "lifecycle": preset, **(extra or {})}
    app = cdk.App(context=context, outdir=str(outdir))
    stacks = build(app)
    assembly = app.synth()
    report = AwsSolutionsChecks().validate_scope(app)
    findings = [
        NagFinding(
            rule=violation.rule_name,
            paths=tuple(resource.construct_path or "?" for resource in violation.violating_resources),
        )
        for violation in report.violations
    ]
    templates = {}
    dependencies = {}
    for stack in stacks.all:
        artifact = assembly.get_stack_artifact(stack.artifact_id)
        templates[stack.stack_name.rsplit("-", 1)[1]] = artifact.template
        dependencies[stack.stack_name] = [dep.id for dep in artifact.dependencies]
    return Synthesized(stage, preset, templates, dependencies, outdir, findings)


def resources(template: Template, resource_type: str) -> dict[str, Resource]:
    """Resources of one CloudFormation type, by logical id."""
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource["Type"] == resource_type
    }


def only(template: Template, resource_type: str) -> Resource:
    """The single resource of a type (fails if there are none or several)."""
    found = list(resources(template, resource_type).values())
    assert len(found) == 1, f"expected one {resource_type}, found {len(found)}"
    return found[0]


def statements(template: Template) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every IAM policy statement of every ``AWS::IAM::Policy`` and inline role policy."""
    for logical_id, policy in resources(template, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            yield logical_id, statement
    for logical_id, role in resources(template, "AWS::IAM::Role").items():
        for inline in role["Properties"].get("Policies", []):
            for statement in inline["PolicyDocument"]["Statement"]:
                yield logical_id, statement


def as_list(value: Any) -> list[Any]:
    """IAM allows a single value or a list; always a list here."""
    return value if isinstance(value, list) else [value]


_ASSET_HASH = re.compile(r"[0-9a-f]{64}")


def normalise(template: Template) -> Template:
    """Replace content hashes (assets, image tags) so snapshots change only with the infrastructure."""
    text = _ASSET_HASH.sub("<asset-hash>", json.dumps(template, indent=1, sort_keys=True))
    normalised: Template = json.loads(text)
    return normalised
