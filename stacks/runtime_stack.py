"""Runtime stack: the AgentCore runtime wired to the stores, its role, logs, alarms and outputs."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Fn, Stack
from aws_cdk import aws_bedrockagentcore as agentcore
from aws_cdk import aws_iam as iam
from constructs import Construct

from agentcore_async.cdk.agent_runtime import DEFAULT_ENDPOINT, RUNTIME_NAME_PREFIX, AgentRuntime, RuntimeVpc
from agentcore_async.cdk.caller_pool import CallerPool
from agentcore_async.cdk.example_task_machine import ExampleTaskMachine
from agentcore_async.cdk.runtime_alarms import RuntimeAlarms
from agentcore_async.cdk.runtime_dashboard import RuntimeDashboard
from agentcore_async.cdk.runtime_role import RuntimeRole
from agentcore_async.cdk.task_events_bus import TaskEventsBus
from agentcore_async.contract import AUTHORIZATION_HEADER, STACK_PREFIX, EnvVar, Metric
from stacks.context import AppConfig
from stacks.image_stack import ImageStack
from stacks.network_stack import NetworkStack
from stacks.storage_stack import StorageStack


class RuntimeStack(Stack):
    """Deployed after the image stack, so the image it names has been built and pushed."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        network: NetworkStack | None,
        storage: StorageStack,
        image: ImageStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        stage = config.stage
        runtime_name = f"{RUNTIME_NAME_PREFIX}{stage.name}"
        role = RuntimeRole(self, "ExecutionRole", runtime_name=runtime_name, repository=image.repository)
        refs = storage.refs
        role.grant_table(refs.table_arn, nag_name=storage.export_name("TableArn"))
        role.grant_results_prefix(refs.bucket_arn, nag_name=storage.export_name("BucketArn"))
        role.grant_inputs_prefix(refs.bucket_arn, nag_name=storage.export_name("BucketArn"))
        role.grant_model(config.model_id)
        task_events = TaskEventsBus(self, "TaskEvents", stage=stage.name)
        role.grant_task_events(task_events.bus.event_bus_arn)
        # Any start may carry a Step Functions task token (the example machine's, or yours).
        role.grant_task_results()

        environment = {
            # boto3 finds no region in an AgentCore microVM unless one is given (the agent
            # refuses to start without one); the stack's own region is where its stores are.
            EnvVar.AWS_REGION: self.region,
            EnvVar.STORE_BACKEND: "dynamodb",
            EnvVar.TABLE_NAME: refs.table_name,
            EnvVar.BUCKET_NAME: refs.bucket_name,
            EnvVar.MODEL_ID: config.model_id,
            EnvVar.IDLE_TIMEOUT_SECONDS: str(config.lifecycle.idle_timeout_seconds),
            EnvVar.MAX_LIFETIME_SECONDS: str(config.lifecycle.max_lifetime_seconds),
            # From the same stage value as the bucket's expiry: no record outlives its objects.
            EnvVar.RESULT_TTL_SECONDS: str(stage.result_ttl_seconds),
            EnvVar.EVENT_BUS_NAME: task_events.bus.event_bus_name,
            # The Runtime dimension of the agent's metrics, so the stages' metrics never mix.
            EnvVar.RUNTIME_NAME: runtime_name,
            # The kinds of -c kinds_dir, which the image holds (none: the variable is left out).
            **({EnvVar.EXTRA_KINDS: ",".join(image.extra_kinds)} if image.extra_kinds else {}),
            **self._metrics(config, role),
        }
        if refs.redis_url is not None:
            environment[EnvVar.REDIS_URL] = refs.redis_url
        if refs.cache_name and refs.cache_user_id and refs.cache_arn and refs.cache_user_arn:
            environment[EnvVar.REDIS_CACHE_NAME] = refs.cache_name
            environment[EnvVar.REDIS_IAM_USER] = refs.cache_user_id
            # IAM auth: connect to this cache, as this user, and nothing else.
            role.role.add_to_policy(
                iam.PolicyStatement(
                    sid="CacheConnect",
                    actions=["elasticache:Connect"],
                    resources=[refs.cache_arn, refs.cache_user_arn],
                )
            )

        authorizer = self._authorizer(config)
        if authorizer is not None:
            # The agent binds every task to the caller's identity, read from the verified token.
            environment[EnvVar.AUTH] = "jwt"

        vpc = None
        if network is not None:
            vpc = RuntimeVpc(
                vpc=network.vpc, subnets=network.subnets, security_group=network.security_groups.runtime
            )
        agent = AgentRuntime(
            self,
            "Agent",
            runtime_name=runtime_name,
            repository=image.repository,
            # The tag is the source hash: a literal here, so a new image never changes an export.
            image_tag=image.image_tag,
            role=role.role,
            lifecycle=config.lifecycle,
            environment=environment,
            vpc=vpc,
            log_retention=stage.log_retention,
            removal_policy=stage.removal_policy,
            authorizer=authorizer,
            # AgentCore hands Authorization to the container only when allowlisted (which needs a
            # JWT authorizer): the agent reads the caller's identity from it.
            request_headers=(AUTHORIZATION_HEADER,) if authorizer is not None else (),
        )
        # CloudFormation orders whole stacks: the image build finishes before this stack starts.
        self.add_stack_dependency(image, "the runtime's image is built by the image stack's custom resource")
        self.add_stack_dependency(storage, "the runtime imports the storage stack's exports")
        self.runtime = agent.runtime
        endpoints = [DEFAULT_ENDPOINT, *([config.endpoint.name] if config.endpoint is not None else [])]
        self.alarms = RuntimeAlarms(
            self,
            "Alarms",
            runtime=agent.runtime,
            alarm_email=config.alarm_email,
            removal_policy=stage.removal_policy,
            endpoints=endpoints,
        )
        # Dashboards are global to the account: the name carries the region too.
        dashboard_name = f"{STACK_PREFIX}-{stage.name}-{self.region}"
        RuntimeDashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name,
            runtime=agent.runtime,
            alarms=self.alarms.alarms,
            endpoints=endpoints,
        )

        if config.example_state_machine:
            example = ExampleTaskMachine(
                self,
                "ExampleTask",
                stage=stage.name,
                runtime=agent.runtime,
                log_retention=stage.log_retention,
                removal_policy=stage.removal_policy,
            )
            CfnOutput(self, "ExampleStateMachineArn", value=example.machine.state_machine_arn)

        CfnOutput(self, "RuntimeArn", value=agent.runtime.agent_runtime_arn)
        CfnOutput(self, "TaskEventsBusName", value=task_events.bus.event_bus_name)
        CfnOutput(self, "ResultsTableName", value=refs.table_name)
        CfnOutput(self, "ResultsBucketName", value=refs.bucket_name)
        if refs.cache_endpoint is not None:
            CfnOutput(self, "CacheEndpoint", value=refs.cache_endpoint)
        CfnOutput(self, "RepositoryUri", value=image.repository.repository_uri)
        CfnOutput(
            self,
            "LogsTailCommand",
            value=Fn.join(" ", ["aws logs tail", agent.log_group.log_group_name, "--follow"]),
        )
        CfnOutput(
            self,
            "DashboardUrl",
            value=f"https://{self.region}.console.aws.amazon.com/cloudwatch/home?region={self.region}"
            f"#dashboards/dashboard/{dashboard_name}",
        )
        if config.endpoint is not None:
            endpoint = agent.add_endpoint(config.endpoint.name, version=config.endpoint.version)
            CfnOutput(
                self, "EndpointName", value=endpoint.endpoint_name, description="--qualifier for callers"
            )
            CfnOutput(self, "EndpointVersion", value=endpoint.agent_runtime_version)
            CfnOutput(
                self,
                "RuntimeVersion",
                value=agent.runtime.agent_runtime_version or "",
                description="the version this deploy created; DEFAULT follows it",
            )

    @staticmethod
    def _metrics(config: AppConfig, role: RuntimeRole) -> dict[str, str]:
        """``-c metrics=put_metric_data``: let the agent put into our namespace only, and tell it
        (the variables it adds to the runtime's environment)."""
        if config.metrics == "emf":
            return {}
        role.grant_task_metrics(Metric.NAMESPACE)
        return {EnvVar.METRICS: config.metrics}

    def _authorizer(self, config: AppConfig) -> agentcore.RuntimeAuthorizerConfiguration | None:
        """The inbound JWT authorizer of ``auth=jwt`` (a created Cognito pool, or the configured
        identity provider), with outputs naming it; None for IAM auth."""
        if config.jwt is None:
            return None
        if config.jwt.discovery_url is not None:
            CfnOutput(self, "JwtDiscoveryUrl", value=config.jwt.discovery_url)
            return agentcore.RuntimeAuthorizerConfiguration.using_jwt(
                config.jwt.discovery_url,
                list(config.jwt.clients) or None,
                list(config.jwt.audiences) or None,
            )
        stage = config.stage
        callers = CallerPool(
            self,
            "Callers",
            pool_name=f"agentcore-async-{stage.name}-callers",
            removal_policy=stage.removal_policy,
            deletion_protection=stage.deletion_protection,
        )
        CfnOutput(self, "UserPoolId", value=callers.pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=callers.client.user_pool_client_id)
        CfnOutput(
            self,
            "JwtDiscoveryUrl",
            value=Fn.join(  # the URL the authorizer reads (as the L2 renders it for the pool)
                "",
                [
                    "https://cognito-idp.",
                    self.region,
                    ".amazonaws.com/",
                    callers.pool.user_pool_id,
                    "/.well-known/openid-configuration",
                ],
            ),
        )
        return agentcore.RuntimeAuthorizerConfiguration.using_cognito(callers.pool, [callers.client])
