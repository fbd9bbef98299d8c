"""Which runtime to call and where: from flags, the environment, or a ``cdk deploy`` outputs file."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from agentcore_async.contract import DEFAULT_QUALIFIER, stack_name

ENV_RUNTIME_ARN: Final = "AGENTCORE_RUNTIME_ARN"
ENV_ENDPOINT_URL: Final = "AGENTCORE_ENDPOINT_URL"
ENV_QUALIFIER: Final = "AGENTCORE_QUALIFIER"
ENV_OUTPUTS_FILE: Final = "AGENTCORE_OUTPUTS_FILE"
ENV_BEARER_TOKEN: Final = "AGENTCORE_BEARER_TOKEN"
DEFAULT_OUTPUTS_FILE: Final = Path("cdk-outputs.json")
RUNTIME_OUTPUT: Final = "RuntimeArn"


class TargetError(ValueError):
    """The runtime to call could not be determined."""


@dataclass(frozen=True, kw_only=True)
class Target:
    """A runtime ARN, plus an endpoint URL for the emulator (None means AWS), and the bearer token
    for a runtime with a JWT authorizer (None: SigV4, as for IAM auth)."""

    runtime_arn: str
    endpoint_url: str | None = None
    region: str | None = None
    qualifier: str = DEFAULT_QUALIFIER
    bearer_token: str | None = field(default=None, repr=False)

    @property
    def arn_region(self) -> str | None:
        """The region named in the ARN (``arn:aws:bedrock-agentcore:<region>:...``)."""
        parts = self.runtime_arn.split(":")
        return parts[3] if len(parts) > 3 and parts[3] else None


def runtime_stack_name(stage: str) -> str:
    """The id of the Runtime stack for ``stage``."""
    return stack_name(stage, "Runtime")


def arn_from_outputs(path: Path, *, stage: str | None = None) -> str:
    """The ``RuntimeArn`` output in a ``cdk deploy --outputs-file`` JSON file."""
    try:
        outputs = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise TargetError(f"cannot read outputs file {path}: {error.strerror}") from None
    except ValueError:
        raise TargetError(f"outputs file {path} is not JSON") from None
    if not isinstance(outputs, dict):
        raise TargetError(f"outputs file {path} is not a JSON object")
    found: dict[str, str] = {}
    for stack, values in outputs.items():
        if not isinstance(values, dict) or (stage is not None and stack != runtime_stack_name(stage)):
            continue
        for key, value in values.items():
            if key.startswith(RUNTIME_OUTPUT) and isinstance(value, str):
                found[stack] = value
    if not found:
        where = f" for stack {runtime_stack_name(stage)}" if stage else ""
        raise TargetError(f"no {RUNTIME_OUTPUT} output{where} in {path}")
    if len(found) > 1:
        raise TargetError(f"several runtimes in {path} ({', '.join(sorted(found))}); choose one with --stage")
    return next(iter(found.values()))


def resolve_target(
    *,
    runtime_arn: str | None = None,
    endpoint_url: str | None = None,
    region: str | None = None,
    qualifier: str | None = None,
    outputs_file: Path | None = None,
    stage: str | None = None,
    bearer_token: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Target:
    """Flags win over the environment, which wins over the outputs file."""
    env = os.environ if env is None else env
    arn = runtime_arn or env.get(ENV_RUNTIME_ARN)
    if not arn:
        path = outputs_file or (Path(env[ENV_OUTPUTS_FILE]) if env.get(ENV_OUTPUTS_FILE) else None)
        if path is None and DEFAULT_OUTPUTS_FILE.is_file():
            path = DEFAULT_OUTPUTS_FILE
        if path is None:
            raise TargetError(
                f"no runtime ARN: pass --runtime-arn, set {ENV_RUNTIME_ARN}, "
                "or pass --outputs-file from `cdk deploy --outputs-file`"
            )
        arn = arn_from_outputs(path, stage=stage)
    if not arn.startswith("arn:") or ":runtime/" not in arn:
        raise TargetError(f"not an AgentCore runtime ARN: {arn}")
    return Target(
        runtime_arn=arn,
        endpoint_url=endpoint_url or env.get(ENV_ENDPOINT_URL) or None,
        region=region,
        qualifier=qualifier or env.get(ENV_QUALIFIER) or DEFAULT_QUALIFIER,
        bearer_token=(bearer_token or env.get(ENV_BEARER_TOKEN) or "").strip() or None,
    )
