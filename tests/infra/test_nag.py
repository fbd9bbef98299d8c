"""cdk-nag AwsSolutions: no unacknowledged finding in any stack of any stage x preset."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks

from tests.infra.synth import AllSynths, VariantSynths


def test_no_unacknowledged_findings_anywhere(synthesized: AllSynths) -> None:
    findings = {
        f"{stage}/{preset}: {finding.rule} at {', '.join(finding.paths)}"
        for (stage, preset), synth in synthesized.items()
        for finding in synth.nag_findings
    }
    assert findings == set()


def test_the_checks_do_report_an_insecure_resource() -> None:
    """Guards the test above: the same checks flag a bucket without TLS enforcement or logs."""
    app = cdk.App()
    stack = cdk.Stack(app, "Insecure")
    s3.Bucket(stack, "Open")
    report = AwsSolutionsChecks().validate_scope(app)
    rules = {violation.rule_name for violation in report.violations}
    assert {"AwsSolutions-S1", "AwsSolutions-S10"} <= rules


def test_acknowledgements_carry_reasons_into_the_templates(
    synthesized: AllSynths, synthesized_variants: VariantSynths
) -> None:
    for synth in [*synthesized.values(), *synthesized_variants.values()]:
        for template in synth.templates.values():
            for logical_id, resource in template["Resources"].items():
                for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
                    assert len(rule["reason"]) >= 20, f"{logical_id}: {rule['id']} needs a specific reason"


def test_no_unacknowledged_findings_in_the_feature_variants(synthesized_variants: VariantSynths) -> None:
    """``-c auth=jwt`` (its Cognito user pool included), ``-c endpoint=live`` and the example state
    machine add no finding."""
    findings = {
        f"{name}: {finding.rule} at {', '.join(finding.paths)}"
        for name, synth in synthesized_variants.items()
        for finding in synth.nag_findings
    }
    assert findings == set()
