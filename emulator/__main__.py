"""``python -m emulator``: serve the local AgentCore Runtime until interrupted."""

from __future__ import annotations

import logging
import sys

from emulator.cli import banner, parse
from emulator.jwt_auth import JwtConfigError
from emulator.server import build_server


def main() -> None:
    """Parse flags, load the JWT keys (if any), print the banner and serve."""
    config, level = parse(sys.argv[1:])
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per ping is noise
    try:
        server = build_server(config)
    except JwtConfigError as error:
        print(f"python -m emulator: error: {error}", file=sys.stderr)
        sys.exit(2)
    print(banner(config), flush=True)
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl+C after its clean shutdown
        sys.exit(130)


if __name__ == "__main__":
    main()
