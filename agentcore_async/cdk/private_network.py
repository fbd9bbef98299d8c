"""A VPC with private subnets only: AWS services are reached through VPC endpoints, no NAT."""

from __future__ import annotations

from typing import Final

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

# What the runtime calls from inside the VPC: image pull (ECR api/dkr, layers in S3), logs,
# traces, the model, the result stores (S3 and DynamoDB through gateway endpoints), task events
# (EventBridge) and task-token callbacks (Step Functions).
INTERFACE_SERVICES: Final = {
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "BedrockRuntime": ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME,
    "XRay": ec2.InterfaceVpcEndpointAwsService.XRAY,
    "Events": ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE,
    "StepFunctions": ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
}
METRICS_SERVICES: Final = {"Monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING}
"""With ``-c metrics=put_metric_data``: the agent calls PutMetricData (CloudWatch's monitoring API)."""
GATEWAY_SERVICES: Final = {
    "S3": ec2.GatewayVpcEndpointAwsService.S3,
    "DynamoDb": ec2.GatewayVpcEndpointAwsService.DYNAMODB,
}


class PrivateNetwork(Construct):
    """Isolated subnets in two AZs, flow logs, and the endpoints the runtime needs.

    The stack's ``availability_zones`` must be Availability Zone *IDs*: each subnet is placed
    with ``AvailabilityZoneId``, because AgentCore supports only certain zone IDs and zone names
    map to different IDs in every account (see ``stacks/availability_zones.py``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cidr: str,
        max_azs: int,
        flow_log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
        put_metric_data: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            max_azs=max_azs,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=22
                )
            ],
            restrict_default_security_group=True,
        )
        for subnet in self.vpc.isolated_subnets:
            cfn = subnet.node.default_child
            if not isinstance(cfn, ec2.CfnSubnet) or cfn.availability_zone is None:
                raise TypeError(f"{subnet.node.path} has no CloudFormation subnet with a zone")
            cfn.availability_zone_id = cfn.availability_zone
            cfn.availability_zone = None
        flow_logs = logs.LogGroup(
            self, "FlowLogs", retention=flow_log_retention, removal_policy=removal_policy
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )

        self.endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="Interface endpoints: HTTPS from the agent runtime only",
            allow_all_outbound=False,
        )
        interfaces = {**INTERFACE_SERVICES, **(METRICS_SERVICES if put_metric_data else {})}
        for name, service in interfaces.items():
            self.vpc.add_interface_endpoint(
                name,
                service=service,
                private_dns_enabled=True,
                open=False,
                security_groups=[self.endpoint_security_group],
            )
        for name, gateway in GATEWAY_SERVICES.items():
            self.vpc.add_gateway_endpoint(name, service=gateway)

    @property
    def private_subnets(self) -> ec2.SubnetSelection:
        """The subnets the runtime and the cache live in."""
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
