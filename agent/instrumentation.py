"""Tracing for ``python -m agent``, configured from the standard ``OTEL_*`` variables.

In the container the AWS Distro for OpenTelemetry is already set up before the agent starts
(``opentelemetry-instrument python -m agent``, with the variables AgentCore sets). Started as
plain ``python -m agent`` (locally, under the emulator), the agent does the same set-up with the
same distro, but only when ``OTEL_TRACES_EXPORTER`` names an exporter: by default nothing is
traced or exported. Library instrumentations stay off unless
``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS`` says otherwise, and so do metrics and log exporters.

    OTEL_TRACES_EXPORTER=console python -m agent     # prints every span as JSON on stdout
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

from opentelemetry import trace
from opentelemetry.environment_variables import (
    OTEL_LOGS_EXPORTER,
    OTEL_METRICS_EXPORTER,
    OTEL_TRACES_EXPORTER,
)
from opentelemetry.instrumentation.environment_variables import (
    OTEL_PYTHON_CONFIGURATOR,
    OTEL_PYTHON_DISABLED_INSTRUMENTATIONS,
    OTEL_PYTHON_DISTRO,
)
from opentelemetry.sdk.environment_variables import OTEL_SDK_DISABLED, OTEL_SERVICE_NAME

LOCAL_DEFAULTS: Final = {
    # The AWS distro and configurator, as AgentCore selects them (another distro is installed too).
    OTEL_PYTHON_DISTRO: "aws_distro",
    OTEL_PYTHON_CONFIGURATOR: "aws_configurator",
    OTEL_SERVICE_NAME: "agentcore-async-agent",
    OTEL_METRICS_EXPORTER: "none",
    OTEL_LOGS_EXPORTER: "none",
    OTEL_PYTHON_DISABLED_INSTRUMENTATIONS: "*",
}
"""What the agent assumes for variables left unset (the distro would export to localhost)."""


def tracing_requested(environ: Mapping[str, str]) -> bool:
    """Whether the environment asks for spans to be exported somewhere."""
    exporters = {name.strip() for name in environ.get(OTEL_TRACES_EXPORTER, "").split(",")} - {"", "none"}
    return bool(exporters) and environ.get(OTEL_SDK_DISABLED, "").strip().lower() != "true"


def set_up_tracing() -> bool:
    """Configure the distro from the process environment, unless a tracer provider is already set
    (``opentelemetry-instrument``) or no traces exporter is named. True if it did."""
    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return False
    if not tracing_requested(os.environ):
        return False
    for name, value in LOCAL_DEFAULTS.items():
        os.environ.setdefault(name, value)
    from opentelemetry.instrumentation.auto_instrumentation import initialize  # noqa: PLC0415

    initialize()  # what opentelemetry-instrument runs before the program: distro, configurator
    return True
