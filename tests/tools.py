"""Finding the real tools a test runs (promtool, amtool): skip where they are not
installed, but never in CI, where a missing tool is a failure."""

from __future__ import annotations

import os
import shutil

import pytest


def require_tool(name: str, package: str, candidates: tuple[str, ...] = ()) -> str:
    """Path of `name` (or of the first candidate found); skips naming the Debian package,
    or fails when the CI environment variable is set."""
    for candidate in candidates or (name,):
        path = shutil.which(candidate)
        if path:
            return path
    message = f"{name} not found: install the Debian package `{package}` (apt-get install {package})"
    if os.environ.get("CI"):
        pytest.fail(message + " -- it is required when CI is set", pytrace=False)
    pytest.skip(message)
