"""The agent image: its repository, its arm64 build and the trigger that builds it on deploy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_logs as logs
from constructs import Construct

from agentcore_async.cdk.image_build_project import ImageBuildProject
from agentcore_async.cdk.image_build_trigger import ImageBuildTrigger
from agentcore_async.cdk.image_repository import ImageRepository
from agentcore_async.cdk.image_source import stage_image_source, staging_dir


@dataclass(frozen=True)
class AgentImage:
    """What a runtime needs of its image."""

    repository: ecr.IRepository
    tag: str
    """The staged source's hash: a plain string at synth, the tag the build pushes."""
    extra_kinds: tuple[str, ...]
    """The module paths of the kinds of ``kinds_dirs`` (``AGENT_EXTRA_KINDS``)."""
    build: ImageBuildTrigger
    """Done once the tag is in ECR: a runtime depends on it."""


def add_agent_image(
    scope: Construct,
    *,
    kinds_dirs: Sequence[Path],
    keep_images: int,
    build_timeout: Duration,
    log_retention: logs.RetentionDays,
    removal_policy: RemovalPolicy,
) -> AgentImage:
    """Add ``Images``, ``Build`` and ``BuildOnDeploy`` to ``scope`` (the ids keep their logical ids
    where a stack already holds them)."""
    source = stage_image_source(staging_dir(), kinds_dirs)
    repository = ImageRepository(
        scope, "Images", keep_images=keep_images, removal_policy=removal_policy
    ).repository
    build = ImageBuildProject(
        scope,
        "Build",
        source_dir=source.directory,
        repository=repository,
        timeout=build_timeout,
        log_retention=log_retention,
        removal_policy=removal_policy,
    )
    trigger = ImageBuildTrigger(
        scope,
        "BuildOnDeploy",
        project=build.project,
        repository_uri=repository.repository_uri,
        source_hash=build.source_hash,
        build_timeout=build_timeout,
        log_retention=log_retention,
        removal_policy=removal_policy,
    )
    return AgentImage(
        repository=repository, tag=build.source_hash, extra_kinds=source.extra_kinds, build=trigger
    )
