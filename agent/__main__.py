"""``python -m agent``: validate settings, then serve the runtime contract on PORT (default 8080)."""

from __future__ import annotations

import logging
import os
import sys

import uvicorn

from agent.instrumentation import set_up_tracing
from agent.logs import configure_logging
from agent.server import AgentServer
from agent.service import create_app
from agent.settings import SettingsError, aws_region, load_settings
from agentcore_async.contract import EnvVar

GRACEFUL_SHUTDOWN_SECONDS = 5
"""A backstop only: draining answers long-polls at once, well inside AgentCore's 15 s grace."""


def main() -> int:
    """Run the agent until stopped; exit 2 on invalid settings, an unusable store or an AWS store
    without a region."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        return _refuse(str(exc))
    region = aws_region(os.environ)
    if region is None and settings.uses_aws:
        return _refuse(
            f"no AWS region for the DynamoDB, S3 or cache clients: set {EnvVar.AWS_REGION} "
            f"(or {EnvVar.AWS_DEFAULT_REGION}, or a region in the AWS config profile)"
        )
    if os.environ.get(EnvVar.AWS_REGION):
        # Like every other AWS SDK, AWS_REGION wins; botocore only reads AWS_DEFAULT_REGION.
        os.environ[EnvVar.AWS_DEFAULT_REGION] = os.environ[EnvVar.AWS_REGION]
    configure_logging(settings.log_level)
    set_up_tracing()
    try:
        app = create_app(settings)
    except SettingsError as exc:
        return _refuse(str(exc))
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    AgentServer(config, drain=app.state.engine.drain, stop_grace_seconds=settings.stop_grace_seconds).run()
    return 0


def _refuse(reason: str) -> int:
    configure_logging("INFO")
    logging.getLogger("agent").error("cannot start", extra={"reason": reason})
    return 2


if __name__ == "__main__":
    sys.exit(main())
