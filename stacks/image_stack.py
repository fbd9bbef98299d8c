"""Image stack: ECR repository, the arm64 CodeBuild project and the build-on-deploy trigger."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aws_cdk import Duration, Stack
from constructs import Construct

from agentcore_async.cdk.image_build_project import ImageBuildProject
from agentcore_async.cdk.image_build_trigger import ImageBuildTrigger
from agentcore_async.cdk.image_repository import ImageRepository
from agentcore_async.cdk.image_source import stage_image_source, staging_dir
from stacks.stages import StageConfig


class ImageStack(Stack):
    """Builds the agent image (the engine and the kinds of ``kinds_dirs``) on every deploy where it
    changed."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: StageConfig,
        kinds_dirs: Sequence[Path] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        source = stage_image_source(staging_dir(), kinds_dirs)
        self.extra_kinds: tuple[str, ...] = source.extra_kinds
        """The module paths the runtime names in ``AGENT_EXTRA_KINDS``."""
        self.repository = ImageRepository(
            self, "Images", keep_images=stage.max_images, removal_policy=stage.removal_policy
        ).repository
        timeout = Duration.minutes(stage.build_timeout_minutes)
        build = ImageBuildProject(
            self,
            "Build",
            source_dir=source.directory,
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
