"""The client's version: the one its distribution (``pyproject.toml``) is built with."""

from __future__ import annotations

from importlib import metadata

DISTRIBUTION = "agentcore-async-client"

try:
    __version__ = metadata.version(DISTRIBUTION)
except metadata.PackageNotFoundError:  # run from a checkout without installing it
    __version__ = "0+unknown"
