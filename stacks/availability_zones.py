"""Where AgentCore Runtime may place its network interfaces: the supported Availability Zone IDs.

Source: AgentCore Developer Guide, "Configure Amazon Bedrock AgentCore Runtime and tools for VPC",
section "Supported Availability Zones",
https://docs.aws.amazon.com/bedrock-agentcore/latest/devguide/agentcore-vpc.html#agentcore-supported-azs
("If you specify subnets in unsupported Availability Zones, the configuration will fail during
resource creation."), read on 2026-12-04: 20 regions, in the page's order. us-west-1 and
ap-south-2, which AgentCore's "Supported AWS Regions" page lists too, were added on 2026-12-08
with their IDs as the same section listed them in a copy read in 2026-09 (us-west-1 has two);
check them against the page when it is next read.

The table lists zone *IDs*, which name the same physical zone in every account; zone *names*
(``us-east-1a``) map to different IDs in each account, so subnets are placed by ID. A region
missing here cannot run a VPC stage until its row is added from the page above.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

SUBNET_ZONES: Final = 2
"""Private subnets per VPC, one per Availability Zone (the page's high-availability advice)."""

SUPPORTED_AZ_IDS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "us-east-1": ("use1-az1", "use1-az2", "use1-az4"),
        "us-east-2": ("use2-az1", "use2-az2", "use2-az3"),
        "us-west-1": ("usw1-az1", "usw1-az3"),
        "us-west-2": ("usw2-az1", "usw2-az2", "usw2-az3"),
        "ap-southeast-5": ("apse5-az1", "apse5-az2", "apse5-az3"),
        "ap-south-1": ("aps1-az1", "aps1-az2", "aps1-az3"),
        "ap-south-2": ("aps2-az1", "aps2-az2", "aps2-az3"),
        "ap-northeast-2": ("apne2-az1", "apne2-az2", "apne2-az3"),
        "ap-southeast-1": ("apse1-az1", "apse1-az2", "apse1-az3"),
        "ap-southeast-2": ("apse2-az1", "apse2-az2", "apse2-az3"),
        "ap-southeast-7": ("apse7-az1", "apse7-az2", "apse7-az3"),
        "ap-northeast-1": ("apne1-az1", "apne1-az2", "apne1-az4"),
        "ca-central-1": ("cac1-az1", "cac1-az2", "cac1-az4"),
        "eu-central-1": ("euc1-az1", "euc1-az2", "euc1-az3"),
        "eu-west-1": ("euw1-az1", "euw1-az2", "euw1-az3"),
        "eu-west-2": ("euw2-az1", "euw2-az2", "euw2-az3"),
        "eu-south-1": ("eus1-az1", "eus1-az2", "eus1-az3"),
        "eu-west-3": ("euw3-az1", "euw3-az2", "euw3-az3"),
        "eu-south-2": ("eus2-az1", "eus2-az2", "eus2-az3"),
        "eu-north-1": ("eun1-az1", "eun1-az2", "eun1-az3"),
        "sa-east-1": ("sae1-az1", "sae1-az2", "sae1-az3"),
        "us-gov-west-1": ("usgw1-az1", "usgw1-az2", "usgw1-az3"),
    }
)
"""Region -> the Availability Zone IDs AgentCore Runtime supports in VPC mode, as the page lists them."""


def default_zones(region: str) -> tuple[str, ...]:
    """The first :data:`SUBNET_ZONES` supported IDs of ``region`` (``KeyError`` if it is not listed)."""
    return SUPPORTED_AZ_IDS[region][:SUBNET_ZONES]


def region_of(zone_id: str) -> str | None:
    """The listed region a zone ID belongs to, or ``None`` when no region lists it."""
    return next((region for region, ids in SUPPORTED_AZ_IDS.items() if zone_id in ids), None)


def id_prefix_region(zone_id: str) -> str | None:
    """The listed region whose IDs share ``zone_id``'s prefix (``use1`` of ``use1-az9``), if any."""
    prefix = zone_id.split("-az", 1)[0]
    return next(
        (region for region, ids in SUPPORTED_AZ_IDS.items() if ids[0].split("-az", 1)[0] == prefix), None
    )
