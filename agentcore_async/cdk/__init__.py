"""The CDK side of agentcore-async: ``AsyncAgentRuntime`` for your own app, and the constructs the
repository's stacks assemble (one per module)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentcore_async.cdk.async_agent_runtime import AsyncAgentRuntime

__all__ = ["AsyncAgentRuntime"]


def __getattr__(name: str) -> Any:
    # Imported on first use: the image staging (agentcore_async.cdk.image_source) needs no jsii.
    if name == "AsyncAgentRuntime":
        from agentcore_async.cdk.async_agent_runtime import AsyncAgentRuntime  # noqa: PLC0415

        return AsyncAgentRuntime
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
