"""Read a runtime from a synthesized cloud assembly (``cdk.out``): its lifecycle timers and the image
source it deploys, so the emulator runs what AWS will."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from agentcore_async.contract import ImageLayout
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


@dataclass(frozen=True)
class ImageSource:
    """The build context of a runtime's image, as the cloud assembly staged it."""

    directory: Path
    extra_kinds: tuple[str, ...]

    @property
    def import_roots(self) -> tuple[str, ...]:
        """The ``PYTHONPATH`` that makes it what ``/app`` is in the image."""
        return ImageLayout.import_roots(str(self.directory))


def image_from_cdk_out(cdk_out: Path, *, stack: str | None = None) -> ImageSource:
    """The staged image source of the one runtime in ``cdk_out``: ``asset.<tag>``, where the tag
    closes the runtime's container URI (the build pushes the source hash as the tag)."""
    name, properties = _one_runtime(cdk_out, stack)
    uri = json.dumps(properties.get("AgentRuntimeArtifact", {}))
    tags = re.findall(r":([0-9a-f]{64})\"", uri)
    directory = cdk_out / f"asset.{tags[-1]}" if tags else None
    if directory is None or not (directory / "agent" / "__main__.py").is_file():
        raise ConfigError(f"{name}: its image source is not in {cdk_out} (synthesize it again)")
    listing = directory / ImageLayout.USER_KINDS / ImageLayout.KINDS_LIST
    kinds = listing.read_text(encoding="utf-8").split() if listing.is_file() else []
    return ImageSource(directory=directory, extra_kinds=tuple(kinds))


def _one_runtime(cdk_out: Path, stack: str | None) -> tuple[str, dict[str, Any]]:
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
    return runtimes[0]


def lifecycle_from_cdk_out(cdk_out: Path, *, stack: str | None = None) -> Lifecycle:
    """Return the ``LifecycleConfiguration`` of the one AgentCore runtime in ``cdk_out``.

    ``stack`` narrows the search when several stages are synthesized. Missing timers take
    AgentCore's defaults (idle 900 s, max lifetime 28800 s).
    """
    name, properties = _one_runtime(cdk_out, stack)
    lifecycle = properties.get("LifecycleConfiguration", {}) or {}
    defaults = Lifecycle()
    try:
        return Lifecycle(
            idle_timeout=float(lifecycle.get("IdleRuntimeSessionTimeout", defaults.idle_timeout)),
            max_lifetime=float(lifecycle.get("MaxLifetime", defaults.max_lifetime)),
        )
    except (TypeError, ValueError):
        raise ConfigError(f"{name} has a LifecycleConfiguration that is not numeric") from None
