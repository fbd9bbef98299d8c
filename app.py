#!/usr/bin/env python3
"""CDK entry point: ``cdk synth -c stage=prod -c lifecycle=long-running``."""

from __future__ import annotations

import os
import sys

from aws_cdk import App

from stacks.assembly import build
from stacks.context import ConfigError


def main() -> int:
    """Synthesize the app; invalid context prints one line and exits with status 2."""
    app = App()
    try:
        build(app, os.environ)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
