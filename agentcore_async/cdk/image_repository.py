"""The ECR repository the agent image is pushed to."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ecr as ecr
from constructs import Construct


class ImageRepository(Construct):
    """Immutable tags, scan on push, and a lifecycle rule keeping only the newest images."""

    def __init__(
        self, scope: Construct, construct_id: str, *, keep_images: int, removal_policy: RemovalPolicy
    ) -> None:
        super().__init__(scope, construct_id)
        self.repository = ecr.Repository(
            self,
            "Repository",
            image_scan_on_push=True,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            encryption=ecr.RepositoryEncryption.AES_256,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    description=f"keep the last {keep_images} images", max_image_count=keep_images
                )
            ],
            removal_policy=removal_policy,
            empty_on_delete=removal_policy == RemovalPolicy.DESTROY,
        )
