"""One synthesis of every stage x preset per test session, shared by all infra tests."""

from __future__ import annotations

import pytest

from tests.infra.synth import COMBINATIONS, AllSynths, synthesize


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> AllSynths:
    """Every stage x lifecycle preset, synthesized once (jsii is slow)."""
    root = tmp_path_factory.mktemp("cdk-out")
    return {
        (stage, preset): synthesize(stage, preset, root / f"{stage}-{preset}")
        for stage, preset in COMBINATIONS
    }
