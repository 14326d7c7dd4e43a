"""Fixtures for the key tests: a deployment of their own."""

from tests.keys.deployment import deployment

__all__ = ["deployment"]
