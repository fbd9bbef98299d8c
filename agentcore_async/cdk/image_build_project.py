"""A CodeBuild project that builds ``agent/Dockerfile`` for linux/arm64 and pushes it to ECR."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from agentcore_async.cdk.nag import acknowledge, arn_prefix, logical_ref, region_and_account

# The asset is the staged build context of agent/Dockerfile (agentcore_async.cdk.image_source).
# Tags are immutable, so a retried build of a source hash that is already pushed is a no-op.
BUILD_SPEC: Final[dict[str, Any]] = {
    "version": "0.2",
    "env": {"shell": "bash"},
    "phases": {
        "pre_build": {
            "commands": [
                'aws ecr get-login-password --region "$AWS_REGION"'
                ' | docker login --username AWS --password-stdin "${REPOSITORY_URI%%/*}"',
            ]
        },
        "build": {
            "commands": [
                'if aws ecr describe-images --repository-name "$REPOSITORY_NAME"'
                ' --image-ids imageTag="$IMAGE_TAG" >/dev/null 2>&1; then'
                ' echo "image $IMAGE_TAG already in ECR: nothing to build"; else'
                " docker build --platform linux/arm64 --file agent/Dockerfile"
                ' --tag "$REPOSITORY_URI:$IMAGE_TAG" .'
                ' && docker push "$REPOSITORY_URI:$IMAGE_TAG"; fi',
            ]
        },
    },
}


class ImageBuildProject(Construct):
    """Uploads the staged build context as an S3 asset and defines the arm64 build of the image."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source_dir: Path,
        repository: ecr.IRepository,
        timeout: Duration,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.source = s3_assets.Asset(self, "Source", path=str(source_dir))
        key = kms.Key(
            self,
            "Key",
            description="Encrypts the agent image build's artifacts and logs",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        log_group = logs.LogGroup(self, "Logs", retention=log_retention, removal_policy=removal_policy)
        self.project = codebuild.Project(
            self,
            "Project",
            description="Builds the agent container image (linux/arm64) and pushes it to ECR",
            source=codebuild.Source.s3(bucket=self.source.bucket, path=self.source.s3_object_key),
            environment=codebuild.BuildEnvironment(
                build_image=codebuild.LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0,
                compute_type=codebuild.ComputeType.SMALL,
                privileged=True,
            ),
            environment_variables={
                "REPOSITORY_URI": codebuild.BuildEnvironmentVariable(value=repository.repository_uri),
                "REPOSITORY_NAME": codebuild.BuildEnvironmentVariable(value=repository.repository_name),
                "IMAGE_TAG": codebuild.BuildEnvironmentVariable(value=self.source.asset_hash),
            },
            build_spec=codebuild.BuildSpec.from_object(BUILD_SPEC),
            encryption_key=key,
            timeout=timeout,
            logging=codebuild.LoggingOptions(
                cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=log_group)
            ),
        )
        repository.grant_pull_push(self.project)
        repository.grant(self.project, "ecr:DescribeImages")
        self._accept_findings()

    def _accept_findings(self) -> None:
        policy = self.project.role.node.find_child("DefaultPolicy") if self.project.role else None
        if policy is None:
            raise RuntimeError("the build project has no role policy")
        project = logical_ref(self.project)
        nag_region = arn_prefix(Stack.of(self)) + ":{service}:" + region_and_account(Stack.of(self))
        asset_read = "read-only grant CDK adds for the agent source asset in the bootstrap bucket"
        accepted = {
            "Action::s3:GetBucket*": asset_read,
            "Action::s3:GetObject*": asset_read,
            "Action::s3:List*": asset_read,
            "Action::kms:GenerateDataKey*": "data-key generation on this project's own artifact key only",
            "Action::kms:ReEncrypt*": "re-encryption on this project's own artifact key only",
            "Resource::*": "ecr:GetAuthorizationToken (docker login) has no resource-level permissions",
            f"Resource::{nag_region.format(service='logs')}:log-group:/aws/codebuild/{project}:*": (
                "log streams of this project's default log group (CodeBuild names them per build)"
            ),
            f"Resource::{nag_region.format(service='codebuild')}:report-group/{project}-*": (
                "report groups CodeBuild creates for this project only"
            ),
        }
        for finding, reason in accepted.items():
            acknowledge(policy, f"AwsSolutions-IAM5[{finding}]", reason)

    @property
    def source_hash(self) -> str:
        """Content hash of the image's source: the image tag, new whenever that code changes."""
        return self.source.asset_hash
