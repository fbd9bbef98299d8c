"""cfn-lint over every synthesized template: zero errors."""

from __future__ import annotations

import json

from cfnlint.api import ConfigMixIn, Runner

from tests.infra.synth import AllSynths, VariantSynths


def test_no_cfn_lint_errors(synthesized: AllSynths) -> None:
    # Network, Storage and Image do not depend on the preset: lint each distinct template once.
    distinct: dict[str, str] = {}
    for (stage, preset), synth in synthesized.items():
        for part, template in synth.templates.items():
            distinct.setdefault(json.dumps(template, sort_keys=True), f"{stage}/{preset}/{part}")
    assert len(distinct) >= 11
    runner = Runner(ConfigMixIn(regions=["us-east-1"]))  # loading the rules is the slow part: once
    errors = [
        f"{name}: {match.rule.id} {match.message}"
        for text, name in distinct.items()
        for match in runner.validate_template(json.loads(text))
        if match.rule.id.startswith("E")
    ]
    assert errors == []


def test_no_cfn_lint_errors_in_the_feature_variants(synthesized_variants: VariantSynths) -> None:
    """The Runtime stacks of the feature variants (the only stacks they change)."""
    runner = Runner(ConfigMixIn(regions=["us-east-1"]))
    errors = [
        f"{name}: {match.rule.id} {match.message}"
        for name, synth in synthesized_variants.items()
        for match in runner.validate_template(synth.template("Runtime"))
        if match.rule.id.startswith("E")
    ]
    assert errors == []
