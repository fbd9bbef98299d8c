"""Image stack: ECR repository, the arm64 CodeBuild project and the build-on-deploy trigger."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from aws_cdk import Duration, Stack
from constructs import Construct

from stacks.constructs.image_build_project import ImageBuildProject
from stacks.constructs.image_build_trigger import ImageBuildTrigger
from stacks.constructs.image_repository import ImageRepository
from stacks.stages import StageConfig

PROJECT_DIR: Final = Path(__file__).resolve().parent.parent
"""The image's build context (narrowed to agent/ and contract/ by the build project)."""


class ImageStack(Stack):
    """Builds the agent image from ``agent/`` and ``contract/`` on every deploy where they changed."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: StageConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.repository = ImageRepository(
            self, "Images", keep_images=stage.max_images, removal_policy=stage.removal_policy
        ).repository
        timeout = Duration.minutes(stage.build_timeout_minutes)
        build = ImageBuildProject(
            self,
            "Build",
            source_dir=PROJECT_DIR,
            repository=self.repository,
            timeout=timeout,
            log_retention=stage.log_retention,
            removal_policy=stage.removal_policy,
        )
        self.image_tag: str = build.source_hash
        """Plain string known at synth time, so the runtime stack needs no export that changes."""
        self.build = ImageBuildTrigger(
            self,
            "BuildOnDeploy",
            project=build.project,
            repository_uri=self.repository.repository_uri,
            source_hash=self.image_tag,
            build_timeout=timeout,
            log_retention=stage.log_retention,
            removal_policy=stage.removal_policy,
        )
