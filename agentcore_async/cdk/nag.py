"""Accepting cdk-nag findings: always on one resource, for one finding, with a reason."""

from __future__ import annotations

import jsii
from aws_cdk import (
    Acknowledgment,
    CfnElement,
    IPolicyValidationContext,
    IPolicyValidationPlugin,
    PolicyValidationPluginReport,
    Stack,
    Token,
    Validations,
)
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def acknowledge(resource: IConstruct, finding: str, reason: str) -> None:
    """Accept ``finding`` (``AwsSolutions-IAM5[Resource::...]`` style) on ``resource`` only."""
    Validations.of(resource).acknowledge(Acknowledgment(id=finding, reason=reason))


def logical_ref(construct: IConstruct) -> str:
    """``<LogicalId>``: how cdk-nag names a resource of the same stack inside a finding."""
    cfn = construct if isinstance(construct, CfnElement) else construct.node.default_child
    if not isinstance(cfn, CfnElement):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource")
    stack = Stack.of(cfn)
    return f"<{stack.resolve(stack.get_logical_id(cfn))}>"


def attribute_ref(construct: IConstruct, attribute: str) -> str:
    """``<LogicalId.Attribute>``: how cdk-nag names a ``Fn::GetAtt`` inside a finding."""
    return f"{logical_ref(construct)[:-1]}.{attribute}>"


def arn_prefix(stack: Stack) -> str:
    """``arn:<partition>`` as cdk-nag prints it: the literal partition once the stack's region fixes
    it (``@aws-cdk/core:enablePartitionLiterals``), else the pseudo parameter."""
    partition = "<AWS::Partition>" if Token.is_unresolved(stack.partition) else stack.partition
    return f"arn:{partition}"


def region_and_account(stack: Stack) -> str:
    """``<region>:<account>`` as cdk-nag prints it: pseudo parameters unless the stack sets them."""
    region = "<AWS::Region>" if Token.is_unresolved(stack.region) else stack.region
    account = "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account
    return f"{region}:{account}"


@jsii.implements(IPolicyValidationPlugin)
class ScopedNagChecks:
    """The AwsSolutions checks over one construct's tree only. A plugin is registered with the app
    (where CDK runs plugins), but a team's other stacks are theirs to check, not ours."""

    def __init__(self, scope: IConstruct) -> None:
        self._scope = scope
        self._checks = AwsSolutionsChecks(write_suppressions_to_cloud_formation=True)

    @property
    def name(self) -> str:
        """How the validation report names these checks."""
        return f"AwsSolutions ({self._scope.node.path})"

    @property
    def version(self) -> str | None:
        """No version of their own."""
        return None

    @property
    def rule_ids(self) -> list[str] | None:
        """All of the pack's rules."""
        return None

    def validate(self, context: IPolicyValidationContext) -> PolicyValidationPluginReport:
        """The pack's report for this scope alone."""
        report: PolicyValidationPluginReport = self._checks.validate_scope(self._scope)
        return report
