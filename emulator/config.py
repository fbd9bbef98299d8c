"""The emulator's validated configuration."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from agentcore_async.contract import (
    AGENTCORE_STOP_GRACE_SECONDS,
    DEFAULT_QUALIFIER,
    ENDPOINT_NAME,
    TIMER_MAX_SECONDS,
    TIMER_MIN_SECONDS,
)
from emulator.jwt_auth import JwtAuth

DEFAULT_RUNTIME_ARN: Final = "arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/local_agent-emulator0"
DEFAULT_PORT: Final = 8090
AWS_MIN_TIMER: Final = float(TIMER_MIN_SECONDS)
AWS_MAX_TIMER: Final = float(TIMER_MAX_SECONDS)
AWS_STOP_GRACE: Final = float(AGENTCORE_STOP_GRACE_SECONDS)
"""AgentCore: "Termination can last up to 15 seconds due to logging and other process completion"
(runtime-lifecycle-settings.html, the developer guide's lifecycle settings page)."""

DEFAULT_BOOT_QUEUE_TIMEOUT: Final = 20.0
"""With the 30 s start-up timeout, a call's wait for its microVM stays within boto3's 60 s read timeout."""

AgentOutput = Literal["inherit", "quiet"]


def default_max_booting() -> int:
    """One agent start-up at a time per CPU this process may use: a start-up is CPU-bound, and more
    at once only makes every one of them slower (past the start-up timeout, all fail together)."""
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    return max(1, len(usable))


class ConfigError(ValueError):
    """The emulator was asked to run with settings AgentCore would reject."""


@dataclass(frozen=True, kw_only=True)
class Lifecycle:
    """The runtime's two session timers, in seconds."""

    idle_timeout: float = 900.0
    max_lifetime: float = 28800.0

    def validate(self, *, fast_timers: bool) -> None:
        """Apply AgentCore's bounds; below 60 s is allowed only with ``fast_timers``."""
        for name, value in (("idle timeout", self.idle_timeout), ("max lifetime", self.max_lifetime)):
            if fast_timers and not 0 < value <= AWS_MAX_TIMER:
                raise ConfigError(f"{name} must be above 0 and at most {AWS_MAX_TIMER:g} s, got {value:g}")
            if not fast_timers and not AWS_MIN_TIMER <= value <= AWS_MAX_TIMER:
                raise ConfigError(
                    f"{name} must be {AWS_MIN_TIMER:g}-{AWS_MAX_TIMER:g} s, got {value:g}"
                    " (use --fast-timers for shorter timers in tests and demos)"
                )
        if self.idle_timeout > self.max_lifetime:
            raise ConfigError("idle timeout must not exceed max lifetime")


@dataclass(frozen=True, kw_only=True)
class EmulatorConfig:
    """Everything the emulator needs to run sessions; build it, then call :meth:`validate`."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    runtime_arns: tuple[str, ...] = (DEFAULT_RUNTIME_ARN,)
    qualifiers: tuple[str, ...] = (DEFAULT_QUALIFIER,)
    """The runtime's endpoints: ``DEFAULT`` and any named ones (``--qualifier``)."""
    jwt: JwtAuth | None = None
    """The runtime's JWT authorizer; None for IAM auth (calls are not checked, as documented)."""
    agent_command: tuple[str, ...] = field(default_factory=lambda: (sys.executable, "-m", "agent"))
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    timers_from: str = "AgentCore's defaults, no preset"
    """Where the timers come from, for the banner: a preset, a synthesized stage, flags."""
    fast_timers: bool = False
    ping_interval: float = 15.0
    ping_timeout: float = 2.0
    unhealthy_after: int = 3
    stop_grace: float = AWS_STOP_GRACE
    startup_timeout: float = 30.0
    """From an agent process start to its first healthy ping; time queued for a slot is not counted."""
    max_booting: int = field(default_factory=default_max_booting)
    """How many microVMs may start at once; further new sessions queue for a slot."""
    boot_queue_timeout: float = DEFAULT_BOOT_QUEUE_TIMEOUT
    """How long a new session may queue for a start-up slot before its calls get ThrottlingException."""
    store_dir: Path | None = None
    agent_path: tuple[str, ...] = ()
    """The agents' ``PYTHONPATH``: a synthesized image's source (``--from-cdk-out``), or, empty,
    this checkout."""
    extra_kinds: tuple[str, ...] = ()
    """``AGENT_EXTRA_KINDS`` as the synthesized runtime sets it (the image's kind directories)."""
    agent_output: AgentOutput = "inherit"
    agent_error_detail: bool = False
    history_size: int = 200

    def validate(self) -> EmulatorConfig:
        """Raise :class:`ConfigError` for settings outside what the emulator supports."""
        self.lifecycle.validate(fast_timers=self.fast_timers)
        if not self.runtime_arns:
            raise ConfigError("at least one runtime ARN is required")
        for arn in self.runtime_arns:
            if not arn.startswith("arn:") or ":runtime/" not in arn:
                raise ConfigError(f"not an AgentCore runtime ARN: {arn}")
        self._validate_callers()
        if not self.agent_command:
            raise ConfigError("the agent command is empty")
        positive = {
            "ping interval": self.ping_interval,
            "ping timeout": self.ping_timeout,
            "stop grace": self.stop_grace,
            "startup timeout": self.startup_timeout,
            "boot queue timeout": self.boot_queue_timeout,
        }
        for name, value in positive.items():
            if value <= 0:
                raise ConfigError(f"{name} must be positive, got {value:g}")
        if self.unhealthy_after < 1:
            raise ConfigError("unhealthy-after must be at least 1")
        if self.max_booting < 1:
            raise ConfigError("max-booting must be at least 1")
        return self

    def _validate_callers(self) -> None:
        """Endpoint names AgentCore accepts; a JWT authorizer that can work."""
        for qualifier in self.qualifiers:
            if ENDPOINT_NAME.fullmatch(qualifier) is None:
                raise ConfigError(
                    f"not an endpoint name: {qualifier!r} (a letter, then up to 47 letters, digits or _)"
                )
        if self.jwt is not None and (problem := self.jwt.problem()) is not None:
            raise ConfigError(problem)

    @property
    def tick(self) -> float:
        """How often timers are checked: fine enough for the shortest timer."""
        shortest = min(self.lifecycle.idle_timeout, self.lifecycle.max_lifetime, self.ping_interval)
        return max(0.02, min(1.0, shortest / 10))
