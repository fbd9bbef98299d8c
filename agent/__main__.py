"""``python -m agent``: validate settings, then serve the runtime contract on PORT (default 8080)."""

from __future__ import annotations

import logging
import sys

import uvicorn

from agent.logs import configure_logging
from agent.server import AgentServer
from agent.service import create_app
from agent.settings import SettingsError, load_settings

GRACEFUL_SHUTDOWN_SECONDS = 5
"""A backstop only: draining answers long-polls at once, well inside AgentCore's 15 s grace."""


def main() -> int:
    """Run the agent until stopped; exit 2 on invalid settings or an unusable store."""
    try:
        settings = load_settings()
        configure_logging(settings.log_level)
        app = create_app(settings)
    except SettingsError as exc:
        configure_logging("INFO")
        logging.getLogger("agent").error("cannot start", extra={"reason": str(exc)})
        return 2
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    AgentServer(config, drain=app.state.engine.drain).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
