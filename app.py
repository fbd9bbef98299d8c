#!/usr/bin/env python3
"""CDK entry point: ``cdk synth -c stage=prod -c lifecycle=long-running``."""

from __future__ import annotations

import os
import sys

# jsii (which runs aws-cdk-lib for Python on Node.js) prints a banner on every synth under a Node.js
# release it calls end-of-life or untested; the README says which releases are supported instead.
# It reads these when it starts Node.js, so they are set before aws_cdk is imported.
for _banner in ("DEPRECATED", "UNTESTED", "KNOWN_BROKEN"):
    os.environ.setdefault(f"JSII_SILENCE_WARNING_{_banner}_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")

from aws_cdk import App  # noqa: E402

from stacks.assembly import build  # noqa: E402
from stacks.context import ConfigError  # noqa: E402


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
