"""The caller's W3C trace context, sent with every InvokeAgentRuntime call.

InvokeAgentRuntime takes ``traceParent``, ``traceState`` and ``baggage``, which AgentCore (and the
emulator) hand to the container as the ``traceparent``, ``tracestate`` and ``baggage`` headers, so
the agent's spans join the caller's trace. Where the context comes from:

- :func:`current_trace_context`: the current span and baggage of the caller's OpenTelemetry
  context, when the ``opentelemetry`` package is installed. It uses the W3C Trace Context and
  Baggage propagators themselves, not the ones ``OTEL_PROPAGATORS`` configures, since the API
  takes exactly these. The package is optional: without it nothing is sent, and the client needs
  only boto3 and rich.
- :func:`environment_trace_context`: the ``TRACEPARENT``, ``TRACESTATE`` and ``BAGGAGE``
  environment variables (OpenTelemetry's "Environment Variables as Context Propagation
  Carriers"), for the command line, which a traced script or CI job runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Final

__all__ = [
    "ENVIRONMENT_CARRIERS",
    "TraceContext",
    "current_trace_context",
    "environment_trace_context",
    "invoke_parameters",
]

TraceContext = Callable[[], Mapping[str, str]]
"""Gives the W3C headers (``traceparent``, ``tracestate``, ``baggage``) for one call."""

PARAMETERS: Final = {"traceparent": "traceParent", "tracestate": "traceState", "baggage": "baggage"}
"""W3C header -> InvokeAgentRuntime parameter (its ``locationName`` is the header)."""
MAX_LENGTHS: Final = {"traceParent": 128, "traceState": 512, "baggage": 8192}
"""The parameters' length limits in the ``bedrock-agentcore`` service model."""
ENVIRONMENT_CARRIERS: Final = {"TRACEPARENT": "traceparent", "TRACESTATE": "tracestate", "BAGGAGE": "baggage"}
"""Environment variable -> W3C header (OpenTelemetry's environment carriers)."""

_propagators: tuple[Any, ...]
try:  # optional: the client installs with boto3 and rich only
    from opentelemetry.baggage.propagation import W3CBaggagePropagator
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
except ImportError:
    _propagators = ()
else:
    _propagators = (TraceContextTextMapPropagator(), W3CBaggagePropagator())


def current_trace_context() -> dict[str, str]:
    """The current OpenTelemetry span context and baggage as W3C headers; empty without a
    current span or baggage, and when ``opentelemetry`` is not installed."""
    carrier: dict[str, str] = {}
    for propagator in _propagators:
        propagator.inject(carrier)
    return carrier


def environment_trace_context(environ: Mapping[str, str] | None = None) -> TraceContext:
    """The context named by ``TRACEPARENT``, ``TRACESTATE`` and ``BAGGAGE`` (read now); when none
    is set, the current OpenTelemetry context of each call instead."""
    environ = os.environ if environ is None else environ
    named = {header: environ[name] for name, header in ENVIRONMENT_CARRIERS.items() if environ.get(name)}
    if not named:
        return current_trace_context
    return lambda: named


def invoke_parameters(headers: Mapping[str, str]) -> dict[str, str]:
    """InvokeAgentRuntime parameters for W3C ``headers`` (any case). Empty values and values over
    the API's limits are left out: the call goes without them rather than being refused."""
    parameters: dict[str, str] = {}
    for header, value in headers.items():
        name = PARAMETERS.get(header.lower())
        if name is not None and value and len(value) <= MAX_LENGTHS[name]:
            parameters[name] = value
    return parameters
