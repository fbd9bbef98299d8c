"""Turn ``-c key=value`` context into one validated, typed :class:`AppConfig`.

Everything here is pure: a bad value raises :class:`ConfigError` whose message is one
line naming the key, the bad value and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from agentcore_async.contract import (
    AUTH_MODES,
    DEFAULT_MODEL_ID,
    DEFAULT_QUALIFIER,
    ENDPOINT_NAME,
    METRICS_MODES,
    PRESET_NAMES,
    PRESETS,
    TIMER_MAX_SECONDS,
    TIMER_MIN_SECONDS,
    AuthMode,
    Lifecycle,
    MetricsMode,
    PresetName,
)
from stacks.availability_zones import (
    SUBNET_ZONES,
    SUPPORTED_AZ_IDS,
    default_zones,
    id_prefix_region,
    region_of,
)
from stacks.stages import STAGE_NAMES, STAGES, StageConfig, StageName

DEFAULT_STAGE: Final[StageName] = "dev"
DEPLOY_ACCOUNT_VAR: Final = "CDK_DEPLOY_ACCOUNT"
DEPLOY_REGION_VAR: Final = "CDK_DEPLOY_REGION"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
_MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9.\-]*(:[0-9]+)?$")
_ACCOUNT = re.compile(r"^[0-9]{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$")
_DISCOVERY_URL = re.compile(r"^https://[^\s/?#]+(/[^\s?#]*)?/\.well-known/openid-configuration$")
_CLAIM_VALUE = re.compile(r"^[\x21-\x7e]{1,255}$")
JWT_KEYS: Final = ("jwt_discovery_url", "jwt_audiences", "jwt_clients")

ContextGetter = Callable[[str], object]
"""Reads one context key; ``None`` when it is not set (``Node.try_get_context``)."""


class ConfigError(ValueError):
    """Invalid context; the message is a single line meant for the person running synth."""


@dataclass(frozen=True)
class JwtConfig:
    """The runtime's inbound JWT authorizer: an existing identity provider, or (``discovery_url``
    None) a Cognito user pool and app client the stack creates for the stage."""

    discovery_url: str | None = None
    audiences: tuple[str, ...] = ()
    """Accepted ``aud`` claims (AgentCore's ``allowedAudience``)."""
    clients: tuple[str, ...] = ()
    """Accepted ``client_id`` claims (AgentCore's ``allowedClients``)."""


@dataclass(frozen=True)
class EndpointConfig:
    """A named runtime endpoint, pinned to ``version`` (None: the version this deploy creates)."""

    name: str
    version: str | None = None


@dataclass(frozen=True)
class AppConfig:
    """The whole app's configuration for one synth."""

    stage: StageConfig
    lifecycle: Lifecycle
    model_id: str
    alarm_email: str | None
    account: str | None
    region: str | None
    availability_zones: Mapping[str, tuple[str, ...]]
    """Region -> the Availability Zone IDs of the private subnets; empty without a VPC."""
    auth: AuthMode = "iam"
    jwt: JwtConfig | None = None
    """Set exactly when ``auth`` is ``jwt``."""
    endpoint: EndpointConfig | None = None
    example_state_machine: bool = False
    """Deploy the example state machine that starts a task and waits for its task token."""
    kinds_dirs: tuple[Path, ...] = ()
    """Directories of the user's own kind modules, copied into the image (``-c kinds_dir=``)."""
    metrics: MetricsMode = "emf"
    """How the agent publishes its metrics (``-c metrics=put_metric_data``)."""


def _text(key: str, value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(f"invalid context {key}={value!r}: expected a string")
    text = str(value).strip()
    return text or None


def parse_stage(value: object) -> StageConfig:
    """The stage named by ``-c stage=...`` (default ``dev``)."""
    name = _text("stage", value) or DEFAULT_STAGE
    if name not in STAGES:
        raise ConfigError(f"invalid context stage={name!r}: allowed values are {', '.join(STAGE_NAMES)}")
    return STAGES[name]


def parse_preset(value: object, stage: StageConfig) -> PresetName:
    """The lifecycle preset named by ``-c lifecycle=...`` (default: the stage's)."""
    name = _text("lifecycle", value) or stage.default_lifecycle
    if name not in PRESETS:
        raise ConfigError(f"invalid context lifecycle={name!r}: allowed values are {', '.join(PRESET_NAMES)}")
    return name


def parse_seconds(key: str, value: object) -> int | None:
    """A timer override in whole seconds within AgentCore's range, or ``None`` when unset."""
    text = _text(key, value)
    if text is None:
        return None
    allowed = f"a whole number of seconds from {TIMER_MIN_SECONDS} to {TIMER_MAX_SECONDS}"
    if not re.fullmatch(r"[0-9]+", text):
        raise ConfigError(f"invalid context {key}={text!r}: allowed values are {allowed}")
    seconds = int(text)
    if not TIMER_MIN_SECONDS <= seconds <= TIMER_MAX_SECONDS:
        raise ConfigError(f"invalid context {key}={seconds}: allowed values are {allowed}")
    return seconds


def resolve_lifecycle(preset: PresetName, idle_override: int | None, max_override: int | None) -> Lifecycle:
    """The preset with any overrides applied; the idle timeout may not exceed the lifetime."""
    base = PRESETS[preset]
    idle = base.idle_timeout_seconds if idle_override is None else idle_override
    lifetime = base.max_lifetime_seconds if max_override is None else max_override
    if idle > lifetime:
        key, value = ("idle_timeout", idle) if idle_override is not None else ("max_lifetime", lifetime)
        raise ConfigError(
            f"invalid context {key}={value}: idle_timeout ({idle} s) must not exceed "
            f"max_lifetime ({lifetime} s) for preset {preset}"
        )
    return Lifecycle(preset=preset, idle_timeout_seconds=idle, max_lifetime_seconds=lifetime)


def _matching(key: str, value: object, pattern: re.Pattern[str], allowed: str) -> str | None:
    text = _text(key, value)
    if text is not None and not pattern.fullmatch(text):
        raise ConfigError(f"invalid context {key}={text!r}: allowed values are {allowed}")
    return text


def parse_alarm_email(value: object) -> str | None:
    """Optional address subscribed to the alarm topic."""
    return _matching("alarm_email", value, _EMAIL, "an e-mail address like ops@example.com")


def parse_model_id(value: object) -> str:
    """Bedrock model or inference-profile id the agent invokes."""
    allowed = "a Bedrock model id like anthropic.claude-3-haiku-20240307-v1:0"
    return _matching("model_id", value, _MODEL_ID, allowed) or DEFAULT_MODEL_ID


def parse_env(account: object, region: object) -> tuple[str | None, str | None]:
    """Optional deploy target; both or neither (stacks stay environment-agnostic otherwise)."""
    acct = _matching("account", account, _ACCOUNT, "a 12-digit AWS account id")
    reg = _matching("region", region, _REGION, "an AWS region name like eu-west-1")
    if (acct is None) != (reg is None):
        missing, given = ("region", f"account={acct}") if reg is None else ("account", f"region={reg}")
        raise ConfigError(f"invalid context {given}: set {missing} too, or neither")
    return acct, reg


def parse_availability_zone_ids(
    value: object, region: str | None, stage: StageConfig
) -> dict[str, tuple[str, ...]]:
    """The subnets' Availability Zone IDs per region AgentCore supports them in (VPC stages only).

    Without ``-c availability_zone_ids=a,b`` every listed region gets its default zones (the
    stacks then pick the deploy region's row at deploy time); with it, the IDs must be listed for
    one region, which must be the deploy region when that is known.
    """
    key = "availability_zone_ids"
    text = _text(key, value)
    if not stage.vpc_mode:
        if text is not None:
            raise ConfigError(
                f"invalid context {key}={text!r}: stage {stage.name} runs the runtime in PUBLIC "
                "network mode and has no subnets"
            )
        return {}
    if region is not None and region not in SUPPORTED_AZ_IDS:
        raise ConfigError(
            f"invalid context region={region!r}: stage {stage.name} runs the runtime in a VPC and "
            f"AgentCore lists no supported Availability Zone IDs for {region}; "
            f"regions with supported IDs: {', '.join(SUPPORTED_AZ_IDS)}"
        )
    if text is None:
        regions = [region] if region is not None else list(SUPPORTED_AZ_IDS)
        return {name: default_zones(name) for name in regions}
    ids = tuple(part.strip() for part in text.split(","))
    if len(ids) != SUBNET_ZONES or len(set(ids)) != len(ids) or not all(ids):
        raise ConfigError(
            f"invalid context {key}={text!r}: allowed values are {SUBNET_ZONES} distinct "
            "Availability Zone IDs separated by a comma, like use1-az1,use1-az2"
        )
    target = region or region_of(ids[0]) or id_prefix_region(ids[0])
    if target is None:
        raise ConfigError(
            f"invalid context {key}={text!r}: {ids[0]} is no Availability Zone ID of a region "
            f"AgentCore lists for VPC mode; regions with supported IDs: {', '.join(SUPPORTED_AZ_IDS)}"
        )
    supported = SUPPORTED_AZ_IDS[target]
    for zone in ids:
        if zone not in supported:
            raise ConfigError(
                f"invalid context {key}={text!r}: {zone} is not a supported AgentCore VPC Availability "
                f"Zone ID in {target}; supported IDs there: {', '.join(supported)}"
            )
    return {target: ids}


def parse_auth(value: object) -> AuthMode:
    """How callers authenticate: ``iam`` (SigV4, the default) or ``jwt`` (an inbound JWT authorizer)."""
    name = _text("auth", value) or "iam"
    if name not in AUTH_MODES:
        raise ConfigError(f"invalid context auth={name!r}: allowed values are {', '.join(AUTH_MODES)}")
    return name


def _claim_values(key: str, value: object) -> tuple[str, ...]:
    text = _text(key, value)
    if text is None:
        return ()
    values = tuple(part.strip() for part in text.split(","))
    if not all(_CLAIM_VALUE.fullmatch(part) for part in values) or len(set(values)) != len(values):
        raise ConfigError(
            f"invalid context {key}={text!r}: allowed values are distinct values of 1-255 visible "
            "characters separated by a comma, like app-client-1,app-client-2"
        )
    return values


def parse_jwt(auth: AuthMode, get: ContextGetter) -> JwtConfig | None:
    """The JWT authorizer of ``auth=jwt``: a created Cognito pool, or the identity provider that
    ``jwt_discovery_url`` names with the ``jwt_audiences`` and/or ``jwt_clients`` it accepts."""
    given = {key: text for key in JWT_KEYS if (text := _text(key, get(key))) is not None}
    if auth != "jwt":
        if given:
            key, text = next(iter(given.items()))
            raise ConfigError(
                f"invalid context {key}={text!r}: it configures a JWT authorizer; set auth=jwt too"
            )
        return None
    url = given.get("jwt_discovery_url")
    audiences = _claim_values("jwt_audiences", given.get("jwt_audiences"))
    clients = _claim_values("jwt_clients", given.get("jwt_clients"))
    if url is None:
        if audiences or clients:
            key = "jwt_audiences" if audiences else "jwt_clients"
            raise ConfigError(
                f"invalid context {key}={given[key]!r}: needs jwt_discovery_url (without it the stack "
                "creates a Cognito user pool and accepts its own app client)"
            )
        return JwtConfig()
    if not _DISCOVERY_URL.fullmatch(url):
        raise ConfigError(
            f"invalid context jwt_discovery_url={url!r}: allowed values are https URLs ending in "
            "/.well-known/openid-configuration"
        )
    if not audiences and not clients:
        raise ConfigError(
            f"invalid context jwt_discovery_url={url!r}: set jwt_audiences or jwt_clients too, or "
            "every token of that issuer could call the runtime"
        )
    return JwtConfig(discovery_url=url, audiences=audiences, clients=clients)


def parse_endpoint(name: object, version: object) -> EndpointConfig | None:
    """``-c endpoint=NAME`` (and ``-c endpoint_version=N`` to hold it at an earlier version)."""
    endpoint = _text("endpoint", name)
    pinned = _text("endpoint_version", version)
    if endpoint is None:
        if pinned is not None:
            raise ConfigError(f"invalid context endpoint_version={pinned!r}: set endpoint=NAME too")
        return None
    if ENDPOINT_NAME.fullmatch(endpoint) is None:
        raise ConfigError(
            f"invalid context endpoint={endpoint!r}: allowed values are a letter followed by up to 47 "
            "letters, digits or underscores"
        )
    if endpoint.upper() == DEFAULT_QUALIFIER:
        raise ConfigError(
            f"invalid context endpoint={endpoint!r}: every runtime already has the {DEFAULT_QUALIFIER} "
            "endpoint, which follows the latest version"
        )
    if pinned is not None and not re.fullmatch(r"[1-9][0-9]{0,4}", pinned):
        raise ConfigError(
            f"invalid context endpoint_version={pinned!r}: allowed values are runtime versions 1-99999"
        )
    return EndpointConfig(name=endpoint, version=pinned)


def parse_metrics(value: object) -> MetricsMode:
    """``-c metrics=emf`` (the default) or ``-c metrics=put_metric_data``."""
    text = _text("metrics", value)
    if text is None or text == "emf":
        return "emf"
    if text == "put_metric_data":
        return "put_metric_data"
    raise ConfigError(f"invalid context metrics={text!r}: allowed values are {', '.join(METRICS_MODES)}")


def parse_flag(key: str, value: object) -> bool:
    """An on/off context key: ``true`` or ``false`` (``-c key=true``), default off."""
    if value is None or isinstance(value, bool):
        return bool(value)
    text = _text(key, value)
    if text is None or text.lower() == "false":
        return False
    if text.lower() == "true":
        return True
    raise ConfigError(f"invalid context {key}={text!r}: allowed values are true, false")


def parse_kinds_dirs(value: object) -> tuple[Path, ...]:
    """``-c kinds_dir=PATH`` (comma-separated for several): directories of kind modules."""
    text = _text("kinds_dir", value)
    if text is None:
        return ()
    paths = tuple(Path(part.strip()) for part in text.split(","))
    for path in paths:
        if not path.is_dir():
            raise ConfigError(f"invalid context kinds_dir={text!r}: {path} is not a directory")
    return paths


def load_config(get: ContextGetter, environ: Mapping[str, str] | None = None) -> AppConfig:
    """Read and validate every context key the app understands.

    ``account`` and ``region`` fall back to ``CDK_DEPLOY_ACCOUNT`` / ``CDK_DEPLOY_REGION`` in
    ``environ`` (deliberately not the CLI's ``CDK_DEFAULT_*``, which follow whatever credentials
    happen to be active).
    """
    env = environ or {}
    stage = parse_stage(get("stage"))
    preset = parse_preset(get("lifecycle"), stage)
    lifecycle = resolve_lifecycle(
        preset,
        parse_seconds("idle_timeout", get("idle_timeout")),
        parse_seconds("max_lifetime", get("max_lifetime")),
    )
    account, region = parse_env(
        get("account") or env.get(DEPLOY_ACCOUNT_VAR), get("region") or env.get(DEPLOY_REGION_VAR)
    )
    auth = parse_auth(get("auth"))
    example = parse_flag("example_state_machine", get("example_state_machine"))
    if example and auth == "jwt":
        # The example's function calls InvokeAgentRuntime signed with its role (SigV4); a JWT
        # runtime refuses that as an authorization method mismatch.
        raise ConfigError(
            "invalid context example_state_machine='true': the example calls the runtime with IAM "
            "(SigV4) credentials, which a runtime with auth=jwt refuses"
        )
    return AppConfig(
        stage=stage,
        lifecycle=lifecycle,
        model_id=parse_model_id(get("model_id")),
        alarm_email=parse_alarm_email(get("alarm_email")),
        account=account,
        region=region,
        availability_zones=parse_availability_zone_ids(get("availability_zone_ids"), region, stage),
        auth=auth,
        jwt=parse_jwt(auth, get),
        endpoint=parse_endpoint(get("endpoint"), get("endpoint_version")),
        example_state_machine=example,
        kinds_dirs=parse_kinds_dirs(get("kinds_dir")),
        metrics=parse_metrics(get("metrics")),
    )
