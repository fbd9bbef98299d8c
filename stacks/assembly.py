"""Build every stack of one stage into a CDK app, with cdk-nag checks applied."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import App, Environment, Stack, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from agentcore_async.cdk.image_source import KindsDirError
from agentcore_async.contract import stack_name
from stacks.context import AppConfig, ConfigError, load_config
from stacks.image_stack import ImageStack
from stacks.network_stack import NetworkStack
from stacks.runtime_stack import RuntimeStack
from stacks.storage_stack import StorageStack


@dataclass(frozen=True)
class AppStacks:
    """The stacks of one stage, in deploy order."""

    config: AppConfig
    network: NetworkStack | None
    storage: StorageStack
    image: ImageStack
    runtime: RuntimeStack

    @property
    def all(self) -> list[Stack]:
        """Every stack that was created."""
        stacks: list[Stack | None] = [self.network, self.storage, self.image, self.runtime]
        return [stack for stack in stacks if stack is not None]


def build(app: App, environ: Mapping[str, str] | None = None) -> AppStacks:
    """Read the context, create the stacks and add the AwsSolutions checks.

    Raises :class:`stacks.context.ConfigError` on invalid context.
    """
    config = load_config(app.node.try_get_context, environ)
    stage = config.stage.name
    env = Environment(account=config.account, region=config.region) if config.account else None
    common: dict[str, Any] = {"env": env, "analytics_reporting": False}

    network = None
    if config.stage.vpc_mode:
        network = NetworkStack(
            app,
            stack_name(stage, "Network"),
            stage=config.stage,
            zone_ids=config.availability_zones,
            put_metric_data=config.metrics == "put_metric_data",
            description="AgentCore async agents: private VPC, endpoints, security groups",
            **common,
        )
    storage = StorageStack(
        app,
        stack_name(stage, "Storage"),
        stage=config.stage,
        network=network,
        description="AgentCore async agents: task table, results bucket, result cache",
        **common,
    )
    try:
        image = ImageStack(
            app,
            stack_name(stage, "Image"),
            stage=config.stage,
            kinds_dirs=config.kinds_dirs,
            description="AgentCore async agents: ECR repository and the arm64 image build",
            **common,
        )
    except KindsDirError as error:
        raise ConfigError(str(error)) from None
    runtime = RuntimeStack(
        app,
        stack_name(stage, "Runtime"),
        config=config,
        network=network,
        storage=storage,
        image=image,
        description="AgentCore async agents: the AgentCore runtime, its role, logs and alarms",
        **common,
    )
    stacks = AppStacks(config=config, network=network, storage=storage, image=image, runtime=runtime)
    Tags.of(app).add("project", "agentcore-async")
    Tags.of(app).add("stage", stage)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))
    return stacks
