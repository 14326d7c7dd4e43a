"""Fixtures for the retention tests: a deployment of their own, for restores."""

from tests.keys.deployment import deployment

__all__ = ["deployment"]
