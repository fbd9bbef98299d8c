"""Every stack template for every stage x preset, compared with the reviewed snapshot.

A failing test prints the diff of what a deploy would change; after an intended change run
``make snapshot-update`` and commit the ``__snapshots__`` files with the code.
"""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from agentcore_async.contract import PresetName
from stacks.stages import StageName
from tests.infra.synth import COMBINATIONS, PARTS, VARIANTS, AllSynths, VariantSynths, normalise

CASES = [
    (stage, preset, part)
    for stage, preset in COMBINATIONS
    for part in PARTS
    if part != "Network" or stage != "dev"  # dev runs the runtime in PUBLIC mode: no VPC
]


@pytest.fixture
def json_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize(("stage", "preset", "part"), CASES, ids=["-".join(case) for case in CASES])
def test_template_matches_snapshot(
    synthesized: AllSynths,
    json_snapshot: SnapshotAssertion,
    stage: StageName,
    preset: PresetName,
    part: str,
) -> None:
    assert normalise(synthesized[stage, preset].template(part)) == json_snapshot


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_variant_runtime_matches_snapshot(
    synthesized: AllSynths,
    synthesized_variants: VariantSynths,
    json_snapshot: SnapshotAssertion,
    variant: str,
) -> None:
    """``-c auth=jwt`` (a created Cognito pool; an external issuer), ``-c endpoint=live`` and
    ``-c example_state_machine=true`` change only the Runtime stack."""
    stage, preset, _ = VARIANTS[variant]
    synth = synthesized_variants[variant]
    assert normalise(synth.template("Runtime")) == json_snapshot
    base = synthesized[stage, preset]
    assert set(synth.templates) == set(base.templates)
    for part, template in synth.templates.items():
        if part != "Runtime":
            assert normalise(template) == normalise(base.template(part)), part


def test_stages_create_exactly_their_stacks(synthesized: AllSynths) -> None:
    for (stage, _), synth in synthesized.items():
        expected = {part for part in PARTS if part != "Network" or stage != "dev"}
        assert set(synth.templates) == expected
        assert all(name.startswith(f"AgentCoreAsync-{stage}-") for name in synth.dependencies)
