"""Context validation: pure functions, no synthesis."""

from __future__ import annotations

import pytest

from agentcore_async.contract import PRESETS, PresetName
from stacks.availability_zones import SUPPORTED_AZ_IDS
from stacks.context import DEFAULT_MODEL_ID, AppConfig, ConfigError, EndpointConfig, JwtConfig, load_config

pytestmark = pytest.mark.unit


def config_from(**context: object) -> AppConfig:
    return load_config(context.get)


@pytest.mark.parametrize(
    ("stage", "preset"), [("dev", "development"), ("staging", "interactive"), ("prod", "long-running")]
)
def test_each_stage_defaults_to_its_preset(stage: str, preset: PresetName) -> None:
    config = config_from(stage=stage)
    assert config.stage.name == stage
    assert config.lifecycle == PRESETS[preset]


def test_no_context_means_dev_development_default_model_and_no_environment() -> None:
    config = config_from()
    assert (config.stage.name, config.lifecycle.preset) == ("dev", "development")
    assert config.model_id == DEFAULT_MODEL_ID
    assert (config.account, config.region, config.alarm_email) == (None, None, None)
    assert config.availability_zones == {}


@pytest.mark.parametrize(
    ("preset", "idle", "lifetime"),
    [("interactive", 900, 14400), ("long-running", 1800, 28800), ("development", 300, 1800)],
)
def test_presets_have_the_documented_timers(preset: str, idle: int, lifetime: int) -> None:
    config = config_from(stage="prod", lifecycle=preset)
    assert (config.lifecycle.idle_timeout_seconds, config.lifecycle.max_lifetime_seconds) == (idle, lifetime)


def test_overrides_replace_one_presets_values_and_accept_numbers_from_cdk_json() -> None:
    config = config_from(lifecycle="interactive", idle_timeout="120", max_lifetime=3600)
    assert config.lifecycle.preset == "interactive"
    assert (config.lifecycle.idle_timeout_seconds, config.lifecycle.max_lifetime_seconds) == (120, 3600)


def test_bounds_are_inclusive() -> None:
    config = config_from(idle_timeout="60", max_lifetime="28800")
    assert (config.lifecycle.idle_timeout_seconds, config.lifecycle.max_lifetime_seconds) == (60, 28800)


def test_valid_optional_values_are_kept() -> None:
    config = config_from(
        alarm_email="ops@example.com",
        model_id="anthropic.claude-3-haiku-20240307-v1:0",
        account="123456789012",
        region="eu-west-1",
    )
    assert config.alarm_email == "ops@example.com"
    assert config.model_id == "anthropic.claude-3-haiku-20240307-v1:0"
    assert (config.account, config.region) == ("123456789012", "eu-west-1")


NO_CONTEXT: dict[str, object] = {}
REGION_ONLY: dict[str, object] = {"region": "eu-central-1"}


def test_account_and_region_fall_back_to_the_deploy_variables_but_context_wins() -> None:
    environ = {"CDK_DEPLOY_ACCOUNT": "111111111111", "CDK_DEPLOY_REGION": "us-west-2"}
    config = load_config(NO_CONTEXT.get, environ)
    assert (config.account, config.region) == ("111111111111", "us-west-2")
    config = load_config(REGION_ONLY.get, environ)
    assert (config.account, config.region) == ("111111111111", "eu-central-1")
    with pytest.raises(ConfigError, match="account='12'"):
        load_config(NO_CONTEXT.get, {"CDK_DEPLOY_ACCOUNT": "12", "CDK_DEPLOY_REGION": "us-west-2"})


def test_the_clis_default_account_is_not_used() -> None:
    config = load_config(
        NO_CONTEXT.get, {"CDK_DEFAULT_ACCOUNT": "111111111111", "CDK_DEFAULT_REGION": "us-west-2"}
    )
    assert (config.account, config.region) == (None, None)


def test_vpc_stages_without_a_region_carry_every_listed_regions_default_zones() -> None:
    for stage in ("staging", "prod"):
        zones = config_from(stage=stage).availability_zones
        assert zones == {region: ids[:2] for region, ids in SUPPORTED_AZ_IDS.items()}


def test_a_known_region_gets_its_row_and_an_override_replaces_it() -> None:
    pinned = {"account": "123456789012", "region": "ap-northeast-1"}
    assert config_from(stage="prod", **pinned).availability_zones == {
        "ap-northeast-1": ("apne1-az1", "apne1-az2")
    }
    override = config_from(stage="prod", availability_zone_ids=" apne1-az4, apne1-az1", **pinned)
    assert override.availability_zones == {"ap-northeast-1": ("apne1-az4", "apne1-az1")}
    # Without a region, the override's IDs say which region they are for.
    assert config_from(stage="staging", availability_zone_ids="euc1-az3,euc1-az2").availability_zones == {
        "eu-central-1": ("euc1-az3", "euc1-az2")
    }


def test_the_public_stage_has_no_zones_and_any_region_will_do() -> None:
    config = config_from(stage="dev", account="123456789012", region="sa-east-1")
    assert config.availability_zones == {}


US_EAST_1 = "supported IDs there: use1-az1, use1-az2, use1-az4"
REJECTIONS = [
    (
        {"stage": "prod", "account": "123456789012", "region": "af-south-1"},
        ["region='af-south-1'", "no supported Availability Zone IDs for af-south-1", "us-east-1, us-east-2"],
    ),
    (
        {"stage": "staging", "availability_zone_ids": "use1-az3,use1-az1"},
        [
            "availability_zone_ids='use1-az3,use1-az1'",
            "use1-az3 is not a supported",
            "in us-east-1",
            US_EAST_1,
        ],
    ),
    (
        {
            "stage": "prod",
            "account": "123456789012",
            "region": "us-east-1",
            "availability_zone_ids": "use1-az1,euw1-az1",
        },
        ["euw1-az1 is not a supported AgentCore VPC Availability Zone ID in us-east-1", US_EAST_1],
    ),
    (
        {"stage": "prod", "availability_zone_ids": "use1-az1"},
        ["availability_zone_ids='use1-az1'", "2 distinct"],
    ),
    ({"stage": "prod", "availability_zone_ids": "use1-az1,use1-az1"}, ["2 distinct"]),
    (
        {"stage": "prod", "availability_zone_ids": "mars1-az1,mars1-az2"},
        [
            "mars1-az1 is no Availability Zone ID of a region AgentCore lists",
            "regions with supported IDs: us-east-1",
        ],
    ),
    (
        {"stage": "dev", "availability_zone_ids": "use1-az1,use1-az2"},
        ["stage dev runs the runtime in PUBLIC"],
    ),
    ({"stage": "qa"}, ["stage='qa'", "dev, staging, prod"]),
    ({"lifecycle": "forever"}, ["lifecycle='forever'", "interactive, long-running, development"]),
    ({"idle_timeout": "59"}, ["idle_timeout=59", "60 to 28800"]),
    ({"idle_timeout": "28801"}, ["idle_timeout=28801", "60 to 28800"]),
    ({"max_lifetime": "ten"}, ["max_lifetime='ten'", "60 to 28800"]),
    ({"max_lifetime": "-5"}, ["max_lifetime='-5'", "60 to 28800"]),
    ({"max_lifetime": "1.5"}, ["max_lifetime='1.5'", "60 to 28800"]),
    (
        {"idle_timeout": "3600", "max_lifetime": "1800"},
        ["idle_timeout=3600", "must not exceed max_lifetime (1800 s)"],
    ),
    ({"lifecycle": "development", "idle_timeout": "2000"}, ["idle_timeout=2000", "max_lifetime (1800 s)"]),
    ({"lifecycle": "interactive", "max_lifetime": "600"}, ["max_lifetime=600", "idle_timeout (900 s)"]),
    ({"alarm_email": "not-an-address"}, ["alarm_email='not-an-address'", "e-mail address"]),
    ({"model_id": "Claude Sonnet!"}, ["model_id='Claude Sonnet!'", "Bedrock model id"]),
    ({"account": "12345"}, ["account='12345'", "12-digit"]),
    ({"region": "mars-1", "account": "123456789012"}, ["region='mars-1'", "region name"]),
    ({"account": "123456789012"}, ["account=123456789012", "set region too"]),
    ({"stage": True}, ["stage=True", "expected a string"]),
]


@pytest.mark.parametrize(("context", "expected"), REJECTIONS, ids=[str(c) for c, _ in REJECTIONS])
def test_invalid_context_fails_with_one_line_naming_key_value_and_allowed(
    context: dict[str, object], expected: list[str]
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(context.get)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("invalid context ")
    for part in expected:
        assert part in message


# ---- caller auth and named endpoints ---------------------------------------------------------

URL = "https://login.example.com/realms/agents/.well-known/openid-configuration"


def test_auth_defaults_to_iam_and_jwt_alone_creates_a_cognito_pool() -> None:
    assert (config_from().auth, config_from().jwt) == ("iam", None)
    created = config_from(auth="jwt")
    assert created.auth == "jwt"
    assert created.jwt == JwtConfig()


def test_an_external_issuer_takes_its_audiences_and_clients() -> None:
    config = config_from(auth="jwt", jwt_discovery_url=URL, jwt_audiences="api", jwt_clients="cli, batch")
    assert config.jwt == JwtConfig(discovery_url=URL, audiences=("api",), clients=("cli", "batch"))


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"auth": "oauth"}, "invalid context auth='oauth': allowed values are iam, jwt"),
        (
            {"jwt_discovery_url": URL},
            f"invalid context jwt_discovery_url={URL!r}: it configures a JWT authorizer; set auth=jwt too",
        ),
        (
            {"auth": "jwt", "jwt_clients": "cli"},
            "invalid context jwt_clients='cli': needs jwt_discovery_url (without it the stack creates a "
            "Cognito user pool and accepts its own app client)",
        ),
        (
            {
                "auth": "jwt",
                "jwt_discovery_url": "http://login.example.com/.well-known/openid-configuration",
                "jwt_clients": "cli",
            },
            "invalid context jwt_discovery_url='http://login.example.com/.well-known/openid-configuration': "
            "allowed values are https URLs ending in /.well-known/openid-configuration",
        ),
        (
            {"auth": "jwt", "jwt_discovery_url": URL},
            f"invalid context jwt_discovery_url={URL!r}: set jwt_audiences or jwt_clients too, or every "
            "token of that issuer could call the runtime",
        ),
        (
            {"auth": "jwt", "jwt_discovery_url": URL, "jwt_audiences": "api,api"},
            "invalid context jwt_audiences='api,api': allowed values are distinct values of 1-255 visible "
            "characters separated by a comma, like app-client-1,app-client-2",
        ),
        (
            {"endpoint": "live-1"},
            "invalid context endpoint='live-1': allowed values are a letter followed by up to 47 letters, "
            "digits or underscores",
        ),
        (
            {"endpoint": "DEFAULT"},
            "invalid context endpoint='DEFAULT': every runtime already has the DEFAULT endpoint, which "
            "follows the latest version",
        ),
        ({"endpoint_version": "3"}, "invalid context endpoint_version='3': set endpoint=NAME too"),
        (
            {"endpoint": "live", "endpoint_version": "0"},
            "invalid context endpoint_version='0': allowed values are runtime versions 1-99999",
        ),
    ],
)
def test_bad_or_contradictory_auth_and_endpoint_values_are_one_line(
    context: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        config_from(**context)
    assert str(refused.value) == message


def test_an_endpoint_is_pinned_to_this_deploy_or_held_at_a_version() -> None:
    assert config_from(endpoint="live").endpoint == EndpointConfig(name="live")
    assert config_from(endpoint="live", endpoint_version="3").endpoint == EndpointConfig("live", "3")
    assert config_from().endpoint is None


@pytest.mark.parametrize(
    ("value", "expected"), [(None, False), ("true", True), ("false", False), (True, True)]
)
def test_example_state_machine_is_an_opt_in_flag(value: object, expected: bool) -> None:
    assert config_from(example_state_machine=value).example_state_machine is expected


def test_a_bad_example_state_machine_flag_is_one_line_naming_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        config_from(example_state_machine="yes")
    assert str(caught.value) == "invalid context example_state_machine='yes': allowed values are true, false"


def test_the_example_state_machine_is_refused_with_jwt_auth() -> None:
    """The example invokes the runtime with SigV4, which a JWT runtime refuses at every call."""
    with pytest.raises(ConfigError) as caught:
        config_from(example_state_machine="true", auth="jwt")
    assert str(caught.value) == (
        "invalid context example_state_machine='true': the example calls the runtime with IAM "
        "(SigV4) credentials, which a runtime with auth=jwt refuses"
    )
