"""cfn-lint over every synthesized template: zero errors."""

from __future__ import annotations

import json

from cfnlint.api import ConfigMixIn, Runner

from tests.infra.synth import AllSynths, Synthesized


def test_no_cfn_lint_errors(synthesized: AllSynths, synthesized_example: Synthesized) -> None:
    # Network, Storage and Image do not depend on the preset: lint each distinct template once.
    distinct: dict[str, str] = {}
    for synth in [*synthesized.values(), synthesized_example]:
        for part, template in synth.templates.items():
            distinct.setdefault(json.dumps(template, sort_keys=True), f"{synth.stage}/{synth.preset}/{part}")
    assert len(distinct) >= 11
    runner = Runner(ConfigMixIn(regions=["us-east-1"]))  # loading the rules is the slow part: once
    errors = [
        f"{name}: {match.rule.id} {match.message}"
        for text, name in distinct.items()
        for match in runner.validate_template(json.loads(text))
        if match.rule.id.startswith("E")
    ]
    assert errors == []
