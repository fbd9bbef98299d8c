"""``python -m agentcore_async.client``."""

from __future__ import annotations

import sys

from agentcore_async.client.cli import main

if __name__ == "__main__":
    sys.exit(main())
