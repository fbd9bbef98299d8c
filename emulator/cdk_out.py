"""Read a runtime's lifecycle timers from a synthesized cloud assembly (``cdk.out``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from emulator.config import ConfigError, Lifecycle

RUNTIME_TYPE: Final = "AWS::BedrockAgentCore::Runtime"


def _runtimes(cdk_out: Path) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for template_path in sorted(cdk_out.rglob("*.template.json")):
        try:
            template = json.loads(template_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ConfigError(f"cannot read {template_path.name}: {error}") from None
        resources = template.get("Resources", {}) if isinstance(template, dict) else {}
        for logical_id, resource in resources.items():
            if isinstance(resource, dict) and resource.get("Type") == RUNTIME_TYPE:
                stack = template_path.name.removesuffix(".template.json")
                found.append((f"{stack}/{logical_id}", resource.get("Properties", {}) or {}))
    return found


def lifecycle_from_cdk_out(cdk_out: Path, *, stack: str | None = None) -> Lifecycle:
    """Return the ``LifecycleConfiguration`` of the one AgentCore runtime in ``cdk_out``.

    ``stack`` narrows the search when several stages are synthesized. Missing timers take
    AgentCore's defaults (idle 900 s, max lifetime 28800 s).
    """
    if not cdk_out.is_dir():
        raise ConfigError(f"{cdk_out} is not a directory; run `make synth` first")
    runtimes = _runtimes(cdk_out)
    if stack is not None:
        runtimes = [item for item in runtimes if item[0].split("/", 1)[0] == stack]
    if not runtimes:
        where = f" in stack {stack}" if stack else ""
        raise ConfigError(f"no {RUNTIME_TYPE} resource{where} in {cdk_out}")
    if len(runtimes) > 1:
        names = ", ".join(name for name, _ in runtimes)
        raise ConfigError(f"several runtimes in {cdk_out} ({names}); choose one with --stack")
    lifecycle = runtimes[0][1].get("LifecycleConfiguration", {}) or {}
    defaults = Lifecycle()
    try:
        return Lifecycle(
            idle_timeout=float(lifecycle.get("IdleRuntimeSessionTimeout", defaults.idle_timeout)),
            max_lifetime=float(lifecycle.get("MaxLifetime", defaults.max_lifetime)),
        )
    except (TypeError, ValueError):
        raise ConfigError(f"{runtimes[0][0]} has a LifecycleConfiguration that is not numeric") from None
