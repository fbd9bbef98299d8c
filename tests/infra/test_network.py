"""Network: private subnets in AgentCore-supported zone IDs, endpoints, security groups opened as needed."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from stacks.availability_zones import SUPPORTED_AZ_IDS
from stacks.context import load_config
from stacks.network_stack import NetworkStack
from stacks.stages import StageName
from tests.infra.synth import FEATURE_FLAGS, AllSynths, resources

VPC_STAGES: tuple[StageName, ...] = ("staging", "prod")


def network_templates(synthesized: AllSynths) -> list[tuple[str, dict[str, Any]]]:
    return [(stage, synthesized[stage, "interactive"].template("Network")) for stage in VPC_STAGES]


def logical_id_of(group: dict[str, Any]) -> str:
    logical_id: str = group["Fn::GetAtt"][0]
    return logical_id


def test_no_nat_no_internet_gateway_and_only_private_subnets(
    synthesized: AllSynths,
) -> None:
    for _, template in network_templates(synthesized):
        assert resources(template, "AWS::EC2::NatGateway") == {}
        assert resources(template, "AWS::EC2::InternetGateway") == {}
        subnets = resources(template, "AWS::EC2::Subnet").values()
        assert len(subnets) == 2
        assert all(subnet["Properties"]["MapPublicIpOnLaunch"] is False for subnet in subnets)
        assert len(resources(template, "AWS::EC2::FlowLog")) == 1


def test_endpoints_for_everything_the_runtime_calls(synthesized: AllSynths) -> None:
    for _, template in network_templates(synthesized):
        endpoints = {
            endpoint["Properties"]["ServiceName"]["Fn::Join"][1][-1]: endpoint["Properties"][
                "VpcEndpointType"
            ]
            for endpoint in resources(template, "AWS::EC2::VPCEndpoint").values()
        }
        assert endpoints == {
            ".ecr.api": "Interface",
            ".ecr.dkr": "Interface",
            ".logs": "Interface",
            ".bedrock-runtime": "Interface",
            ".xray": "Interface",
            ".events": "Interface",
            ".states": "Interface",
            ".s3": "Gateway",
            ".dynamodb": "Gateway",
        }


def security_group(template: dict[str, Any], description_start: str) -> str:
    (logical_id,) = [
        logical_id
        for logical_id, group in resources(template, "AWS::EC2::SecurityGroup").items()
        if group["Properties"]["GroupDescription"].startswith(description_start)
    ]
    return logical_id


def test_cache_accepts_only_valkey_from_the_runtime_security_group(
    synthesized: AllSynths,
) -> None:
    for _, template in network_templates(synthesized):
        cache = security_group(template, "Valkey cache")
        runtime = security_group(template, "AgentCore runtime")
        assert (
            "SecurityGroupIngress" not in resources(template, "AWS::EC2::SecurityGroup")[cache]["Properties"]
        )
        ingress = [
            rule["Properties"]
            for rule in resources(template, "AWS::EC2::SecurityGroupIngress").values()
            if logical_id_of(rule["Properties"]["GroupId"]) == cache
        ]
        assert len(ingress) == 1
        (rule,) = ingress
        assert logical_id_of(rule["SourceSecurityGroupId"]) == runtime
        assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 6379, 6380)


def test_nothing_accepts_traffic_from_an_address_range(synthesized: AllSynths) -> None:
    for _, template in network_templates(synthesized):
        for group in resources(template, "AWS::EC2::SecurityGroup").values():
            assert "SecurityGroupIngress" not in group["Properties"]
        for rule in resources(template, "AWS::EC2::SecurityGroupIngress").values():
            assert "CidrIp" not in rule["Properties"]
            assert "SourceSecurityGroupId" in rule["Properties"]


def test_runtime_may_only_send_https_and_valkey(synthesized: AllSynths) -> None:
    for _, template in network_templates(synthesized):
        runtime = security_group(template, "AgentCore runtime")
        inline = resources(template, "AWS::EC2::SecurityGroup")[runtime]["Properties"]["SecurityGroupEgress"]
        separate = [
            rule["Properties"]
            for rule in resources(template, "AWS::EC2::SecurityGroupEgress").values()
            if logical_id_of(rule["Properties"]["GroupId"]) == runtime
        ]
        ports = {(rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) for rule in [*inline, *separate]}
        assert ports == {("tcp", 443, 443), ("tcp", 6379, 6380)}


def network_template(stage: StageName, region: str) -> dict[str, Any]:
    """The network stack alone, as ``-c stage=<stage> -c region=<region>`` configures it."""
    context = {"stage": stage, "region": region, "account": "123456789012"}
    config = load_config(context.get)
    app = cdk.App(context=FEATURE_FLAGS)
    stack = NetworkStack(
        app,
        f"Net-{stage}",
        stage=config.stage,
        zone_ids=config.availability_zones,
        env=cdk.Environment(account=config.account, region=config.region),
    )
    template: dict[str, Any] = Template.from_stack(stack).to_json()
    return template


@pytest.mark.parametrize("region", list(SUPPORTED_AZ_IDS))
def test_vpc_stages_place_subnets_by_supported_zone_id_in_every_listed_region(region: str) -> None:
    for stage in VPC_STAGES:
        subnets = resources(network_template(stage, region), "AWS::EC2::Subnet").values()
        zones = [subnet["Properties"]["AvailabilityZoneId"] for subnet in subnets]
        assert zones == list(SUPPORTED_AZ_IDS[region][:2])
        assert not any("AvailabilityZone" in subnet["Properties"] for subnet in subnets)


def test_without_a_region_the_deploy_region_picks_its_row_of_the_table(synthesized: AllSynths) -> None:
    for stage, template in network_templates(synthesized):
        mapping = template["Mappings"]["SubnetZoneIds"]
        assert mapping == {
            region: {"Zone1": ids[0], "Zone2": ids[1]} for region, ids in SUPPORTED_AZ_IDS.items()
        }
        for i, subnet in enumerate(resources(template, "AWS::EC2::Subnet").values()):
            assert subnet["Properties"]["AvailabilityZoneId"] == {
                "Fn::FindInMap": ["SubnetZoneIds", {"Ref": "AWS::Region"}, f"Zone{i + 1}"]
            }, stage


def test_an_override_puts_its_zones_in_its_region_only() -> None:
    config = load_config({"stage": "prod", "availability_zone_ids": "use1-az4,use1-az2"}.get)
    app = cdk.App(context=FEATURE_FLAGS)
    stack = NetworkStack(app, "Net", stage=config.stage, zone_ids=config.availability_zones)
    template = Template.from_stack(stack).to_json()
    assert template["Mappings"]["SubnetZoneIds"] == {"us-east-1": {"Zone1": "use1-az4", "Zone2": "use1-az2"}}


DOCUMENTED_REGIONS = frozenset(
    {
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "eu-central-1",
        "eu-west-1",
        "eu-west-2",
        "eu-south-1",
        "eu-west-3",
        "eu-south-2",
        "eu-north-1",
        "ap-southeast-5",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-7",
        "ap-northeast-1",
        "ap-northeast-2",
        "ca-central-1",
        "sa-east-1",
        "us-gov-west-1",
    }
)
"""The 22 regions of AgentCore Developer Guide, "Supported AWS Regions" (AgentCore Runtime row),
https://docs.aws.amazon.com/bedrock-agentcore/latest/devguide/agentcore-regions.html, read on
2026-12-08: US East (N. Virginia, Ohio), US West (N. California, Oregon), Europe (Frankfurt,
Ireland, London, Milan, Paris, Spain, Stockholm), Asia Pacific (Malaysia, Mumbai, Hyderabad,
Singapore, Sydney, Thailand, Tokyo, Seoul), Canada (Central), South America (Sao Paulo) and
AWS GovCloud (US-West)."""


def table_gaps(table_regions: set[str]) -> list[str]:
    """Documented regions the zone table misses, and table rows for regions not documented."""
    return [f"missing {r}" for r in sorted(DOCUMENTED_REGIONS - table_regions)] + [
        f"undocumented {r}" for r in sorted(table_regions - DOCUMENTED_REGIONS)
    ]


def test_the_zone_table_covers_exactly_the_documented_regions() -> None:
    """A VPC stage can deploy wherever AgentCore Runtime runs, and only there."""
    assert len(DOCUMENTED_REGIONS) == 22
    assert table_gaps(set(SUPPORTED_AZ_IDS)) == []


def test_control_a_table_without_two_documented_regions_is_reported() -> None:
    table = set(SUPPORTED_AZ_IDS) - {"us-west-1", "ap-south-2"} | {"af-south-1"}
    assert table_gaps(table) == ["missing ap-south-2", "missing us-west-1", "undocumented af-south-1"]
