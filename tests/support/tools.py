"""
The programs some tests need on the machine (Chromium, Java, npm's tools,
nginx, systemd-analyze, openssl): without one such a test skips locally and
says how to install it; in CI (CI=true) it fails, as CI must run it.
"""

import os

import pytest


def in_ci():
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require(available, what, install=None):
    """Skip (locally) or fail (in CI) when a tool the test needs is missing."""
    if available:
        return
    reason = f"{what} is missing" + (f"; install it with `{install}`" if install else "")
    if in_ci():
        pytest.fail(f"{reason}. CI must run this test, never skip it.", pytrace=False)
    pytest.skip(reason)


def missing(what):
    """A program or account the test needs is not there: skip locally, fail in CI."""
    require(False, what)
