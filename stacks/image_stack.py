"""Image stack: ECR repository, the arm64 CodeBuild project and the build-on-deploy trigger."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aws_cdk import Duration, Stack
from constructs import Construct

from agentcore_async.cdk.agent_image import add_agent_image
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
        image = add_agent_image(
            self,
            kinds_dirs=kinds_dirs,
            keep_images=stage.max_images,
            build_timeout=Duration.minutes(stage.build_timeout_minutes),
            log_retention=stage.log_retention,
            removal_policy=stage.removal_policy,
        )
        self.extra_kinds: tuple[str, ...] = image.extra_kinds
        """The module paths the runtime names in ``AGENT_EXTRA_KINDS``."""
        self.repository = image.repository
        self.image_tag: str = image.tag
        """Plain string known at synth time, so the runtime stack needs no export that changes."""
        self.build = image.build
