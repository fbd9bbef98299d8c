"""``python -m emulator``: serve the local AgentCore Runtime until interrupted."""

from __future__ import annotations

import logging
import sys

from emulator.cli import banner, parse
from emulator.server import serve


def main() -> None:
    """Parse flags, print the banner and serve."""
    config, level = parse(sys.argv[1:])
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per ping is noise
    print(banner(config), flush=True)
    try:
        serve(config)
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl+C after its clean shutdown
        sys.exit(130)


if __name__ == "__main__":
    main()
