"""Every stack template for every stage x preset, compared with the reviewed snapshot.

A failing test prints the diff of what a deploy would change; after an intended change run
``make snapshot-update`` and commit the ``__snapshots__`` files with the code.
"""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from contract import PresetName
from stacks.stages import StageName
from tests.infra.synth import COMBINATIONS, PARTS, AllSynths, Synthesized, normalise

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


def test_example_state_machine_matches_snapshot(
    synthesized_example: Synthesized, json_snapshot: SnapshotAssertion
) -> None:
    """``-c example_state_machine=true``: the Runtime stack with the example and its grant."""
    assert normalise(synthesized_example.template("Runtime")) == json_snapshot


def test_the_example_changes_only_the_runtime_stack(
    synthesized: AllSynths, synthesized_example: Synthesized
) -> None:
    plain = synthesized[synthesized_example.stage, synthesized_example.preset]
    for part in ("Storage", "Image"):
        assert normalise(synthesized_example.template(part)) == normalise(plain.template(part))


def test_stages_create_exactly_their_stacks(synthesized: AllSynths) -> None:
    for (stage, _), synth in synthesized.items():
        expected = {part for part in PARTS if part != "Network" or stage != "dev"}
        assert set(synth.templates) == expected
        assert all(name.startswith(f"AgentCoreAsync-{stage}-") for name in synth.dependencies)
