"""Stacks pinned to an account and region still synthesize without AWS credentials."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.assembly import build
from tests.infra.synth import FEATURE_FLAGS, resources


def test_explicit_account_and_region_need_no_lookups(tmp_path: Path) -> None:
    context = {**FEATURE_FLAGS, "stage": "prod", "account": "123456789012", "region": "eu-west-1"}
    app = cdk.App(context=context, outdir=str(tmp_path))
    stacks = build(app)
    assembly = app.synth()
    # Anything the CLI would have to look up in the account shows up as missing context.
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert "missing" not in manifest
    for stack in stacks.all:
        artifact = assembly.get_stack_artifact(stack.artifact_id)
        assert artifact.environment.account == "123456789012"
        assert artifact.environment.region == "eu-west-1"
    assert AwsSolutionsChecks().validate_scope(app).violations == []
    network = assembly.get_stack_artifact(stacks.runtime.artifact_id.replace("Runtime", "Network")).template
    zones = [subnet["Properties"] for subnet in resources(network, "AWS::EC2::Subnet").values()]
    assert [zone.get("AvailabilityZoneId") for zone in zones] == ["euw1-az1", "euw1-az2"]
    assert not any("AvailabilityZone" in zone for zone in zones)
    assert "Mappings" not in network
