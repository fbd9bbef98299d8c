"""Command line of ``python -m emulator``: flags into a validated :class:`EmulatorConfig`."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from agentcore_async.contract import DEFAULT_QUALIFIER, stack_name
from agentcore_async.contract import PRESETS as CONTRACT_PRESETS
from emulator.cdk_out import ImageSource, image_from_cdk_out, lifecycle_from_cdk_out
from emulator.config import (
    AWS_STOP_GRACE,
    DEFAULT_BOOT_QUEUE_TIMEOUT,
    DEFAULT_PORT,
    DEFAULT_RUNTIME_ARN,
    ConfigError,
    EmulatorConfig,
    Lifecycle,
    default_max_booting,
)
from emulator.jwt_auth import JwtAuth

CLIENT: Final = ".venv/bin/agentcore-async"
"""The client's console script in the project's environment (``make bootstrap`` installs it)."""
PRESETS: Final[dict[str, Lifecycle]] = {
    name: Lifecycle(idle_timeout=preset.idle_timeout_seconds, max_lifetime=preset.max_lifetime_seconds)
    for name, preset in CONTRACT_PRESETS.items()
}
"""AgentCore's lifecycle presets (from :mod:`contract`), as the emulator's timers."""


def parser() -> argparse.ArgumentParser:
    """The argument parser (exits 2 on bad usage)."""
    p = argparse.ArgumentParser(
        prog="python -m emulator",
        description="A local AgentCore Runtime: one agent process per session, with its timers.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to serve on (default loopback)")
    p.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to serve on (default {DEFAULT_PORT})"
    )
    p.add_argument(
        "--runtime-arn",
        action="append",
        dest="runtime_arns",
        metavar="ARN",
        help=f"runtime ARN to accept; repeatable (default {DEFAULT_RUNTIME_ARN})",
    )
    p.add_argument(
        "--qualifier",
        action="append",
        dest="qualifiers",
        metavar="NAME",
        help="a named endpoint of the runtime to accept besides DEFAULT; repeatable",
    )
    p.add_argument(
        "--agent-command",
        default=f"{shlex.quote(sys.executable)} -m agent",
        help="command that starts one agent process (default: this Python, -m agent)",
    )
    timers = p.add_argument_group(
        "lifecycle timers (flags override --from-cdk-out, which overrides --lifecycle)"
    )
    timers.add_argument("--lifecycle", choices=sorted(PRESETS), help="a lifecycle preset")
    timers.add_argument(
        "--from-cdk-out", type=Path, metavar="DIR", help="read timers from a synthesized cdk.out"
    )
    timers.add_argument("--stack", help="stack to read from --from-cdk-out when several are synthesized")
    timers.add_argument("--stage", help="shorthand for --stack AgentCoreAsync-<stage>-Runtime")
    timers.add_argument(
        "--idle-timeout", type=float, metavar="S", help="idleRuntimeSessionTimeout (default 900)"
    )
    timers.add_argument("--max-lifetime", type=float, metavar="S", help="maxLifetime (default 28800)")
    timers.add_argument(
        "--fast-timers", action="store_true", help="allow timers below 60 s (tests and demos)"
    )
    timers.add_argument("--ping-interval", type=float, default=15.0, metavar="S", help="health check period")
    timers.add_argument("--ping-timeout", type=float, default=2.0, metavar="S", help="time a ping may take")
    timers.add_argument(
        "--unhealthy-after", type=int, default=3, metavar="N", help="failed pings before replacement"
    )
    timers.add_argument(
        "--stop-grace",
        type=float,
        default=AWS_STOP_GRACE,
        metavar="S",
        help=f"SIGTERM to SIGKILL delay (default {AWS_STOP_GRACE:g}, AgentCore's upper bound)",
    )
    timers.add_argument(
        "--startup-timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="time from an agent's start to its first ping (time queued to start is not counted)",
    )
    timers.add_argument(
        "--max-booting",
        type=int,
        default=default_max_booting(),
        metavar="N",
        help="microVMs starting at once; more new sessions queue (default: one per CPU, here %(default)s)",
    )
    timers.add_argument(
        "--boot-queue-timeout",
        type=float,
        default=DEFAULT_BOOT_QUEUE_TIMEOUT,
        metavar="S",
        help="time a new session may queue to start before its calls get ThrottlingException "
        f"(default {DEFAULT_BOOT_QUEUE_TIMEOUT:g})",
    )
    p.add_argument(
        "--store-dir",
        type=Path,
        help="shared directory for the agents' SQLite store, so results outlive microVMs "
        "(default: each microVM's own disk, lost with it)",
    )
    p.add_argument("--quiet-agent", action="store_true", help="discard the agent processes' output")
    p.add_argument(
        "--agent-error-detail",
        action="store_true",
        help="add the agent's error code to RuntimeClientError messages (AWS sends only the status)",
    )
    auth = p.add_argument_group(
        "JWT auth (like a runtime with a customJWTAuthorizer; default: IAM auth, calls not checked)"
    )
    auth.add_argument("--jwt-jwks", type=Path, metavar="FILE", help="the issuer's signing keys (a JWKS file)")
    auth.add_argument(
        "--jwt-discovery-url",
        metavar="URL",
        help="the issuer's .../.well-known/openid-configuration (its jwks_uri and issuer are used)",
    )
    auth.add_argument(
        "--jwt-audience", action="append", default=[], metavar="AUD", help="allowed aud claim; repeatable"
    )
    auth.add_argument(
        "--jwt-client", action="append", default=[], metavar="ID", help="allowed client_id claim; repeatable"
    )
    auth.add_argument(
        "--jwt-issuer", metavar="ISS", help="required iss claim (default: the discovery document's)"
    )
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return p


def _jwt(args: argparse.Namespace) -> JwtAuth | None:
    """The JWT authorizer the flags describe, or None when no --jwt-* flag is given."""
    given = (args.jwt_jwks, args.jwt_discovery_url, args.jwt_issuer, *args.jwt_audience, *args.jwt_client)
    if not any(value is not None for value in given):
        return None
    return JwtAuth(
        jwks_file=args.jwt_jwks,
        discovery_url=args.jwt_discovery_url,
        audiences=tuple(args.jwt_audience),
        clients=tuple(args.jwt_client),
        issuer=args.jwt_issuer,
    )


def preset_of(lifecycle: Lifecycle) -> str | None:
    """The name of the preset whose timers ``lifecycle`` has, if any."""
    return next((name for name, preset in sorted(PRESETS.items()) if preset == lifecycle), None)


def _timers(args: argparse.Namespace) -> tuple[Lifecycle, str]:
    """The timers and, for the banner, where they come from."""
    lifecycle, source = Lifecycle(), "AgentCore's defaults, no preset"
    if args.lifecycle:
        lifecycle, source = PRESETS[args.lifecycle], f"the {args.lifecycle} preset"
    if args.from_cdk_out is not None:
        stack = args.stack or (stack_name(args.stage, "Runtime") if args.stage else None)
        lifecycle = lifecycle_from_cdk_out(args.from_cdk_out, stack=stack)
        preset = preset_of(lifecycle)
        where = f"{stack or 'the runtime'} in {args.from_cdk_out}"
        source = f"the {preset} preset, from {where}" if preset else f"custom timers from {where}"
    elif args.stack is not None or args.stage is not None:
        raise ConfigError("--stack and --stage need --from-cdk-out")
    if args.idle_timeout is not None or args.max_lifetime is not None:
        lifecycle = Lifecycle(
            idle_timeout=lifecycle.idle_timeout if args.idle_timeout is None else args.idle_timeout,
            max_lifetime=lifecycle.max_lifetime if args.max_lifetime is None else args.max_lifetime,
        )
        source = f"{source}, overridden by --idle-timeout/--max-lifetime"
    return lifecycle, source


def _image(args: argparse.Namespace) -> ImageSource | None:
    """With ``--from-cdk-out``: the image source its runtime deploys, which the agents then run."""
    if args.from_cdk_out is None:
        return None
    stack = args.stack or (stack_name(args.stage, "Runtime") if args.stage else None)
    return image_from_cdk_out(args.from_cdk_out, stack=stack)


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """Build and validate the config; raises :class:`ConfigError`."""
    lifecycle, timers_from = _timers(args)
    image = _image(args)
    command = tuple(shlex.split(args.agent_command))
    store_dir: Path | None = args.store_dir
    if store_dir is not None:
        store_dir.mkdir(parents=True, exist_ok=True)
    return EmulatorConfig(
        host=args.host,
        port=args.port,
        runtime_arns=tuple(args.runtime_arns or (DEFAULT_RUNTIME_ARN,)),
        qualifiers=tuple(dict.fromkeys((DEFAULT_QUALIFIER, *(args.qualifiers or ())))),
        jwt=_jwt(args),
        agent_command=command,
        lifecycle=lifecycle,
        timers_from=timers_from,
        fast_timers=args.fast_timers,
        ping_interval=args.ping_interval,
        ping_timeout=args.ping_timeout,
        unhealthy_after=args.unhealthy_after,
        stop_grace=args.stop_grace,
        startup_timeout=args.startup_timeout,
        max_booting=args.max_booting,
        boot_queue_timeout=args.boot_queue_timeout,
        store_dir=store_dir.resolve() if store_dir is not None else None,
        agent_output="quiet" if args.quiet_agent else "inherit",
        agent_error_detail=args.agent_error_detail,
        agent_path=image.import_roots if image else (),
        extra_kinds=image.extra_kinds if image else (),
    ).validate()


def parse(argv: Sequence[str] | None = None) -> tuple[EmulatorConfig, str]:
    """Parse ``argv`` into a config and log level; exits 2 with a message on bad usage."""
    p = parser()
    args = p.parse_args(argv)
    try:
        return config_from_args(args), str(args.log_level)
    except ConfigError as error:
        p.error(str(error))
    raise AssertionError("unreachable")


def banner(config: EmulatorConfig) -> str:
    """What to print at start-up: where it listens and the commands to try."""
    url = f"http://{config.host}:{config.port}"
    arn = config.runtime_arns[0]
    store = str(config.store_dir) if config.store_dir else "each microVM's own disk (lost with it)"
    lines: list[str] = [
        f"AgentCore Runtime emulator on {url}",
        f"  runtime ARN   {arn}",
        f"  timers        idle {config.lifecycle.idle_timeout:g}s, max lifetime"
        f" {config.lifecycle.max_lifetime:g}s ({config.timers_from}), ping every {config.ping_interval:g}s",
        f"  agent         {shlex.join(config.agent_command)}",
        *([f"  agent source  {config.agent_path[0]} (the image's)"] if config.agent_path else []),
        *([f"  extra kinds   {', '.join(config.extra_kinds)}"] if config.extra_kinds else []),
        f"  task store    {store}",
        f"  endpoints     {', '.join(config.qualifiers)}",
        f"  caller auth   {_auth_line(config)}",
        "",
        "Try it (another terminal, in this directory):",
        f"  export AGENTCORE_ENDPOINT_URL={url}",
        f"  export AGENTCORE_RUNTIME_ARN={arn}",
        f"  task=$({CLIENT} start --duration 30)   # prints a task id, saves the session id",
        f'  {CLIENT} wait "$task"                  # progress bar until the task finishes',
        f'  {CLIENT} result "$task"',
        f"  {CLIENT} list",
        f"  {CLIENT} sessions                      # the emulator's session table",
        "Drop AGENTCORE_ENDPOINT_URL and set the deployed ARN to run the same commands against AWS.",
    ]
    if config.jwt is not None:
        lines.insert(-1, "  (JWT auth: also export AGENTCORE_BEARER_TOKEN=<a token of the issuer> first)")
    return "\n".join(lines)


def _auth_line(config: EmulatorConfig) -> str:
    if config.jwt is None:
        return "IAM (signatures not checked)"
    source = str(config.jwt.jwks_file) if config.jwt.jwks_file else config.jwt.discovery_url
    accepted = ", ".join([*config.jwt.audiences, *(f"client {c}" for c in config.jwt.clients)])
    return f"JWT from {source}; accepts {accepted}"
