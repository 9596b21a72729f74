"""Shared fixtures: databases (tests/db_fixtures.py) and the fake Bot API (tests/fakebot.py)."""

from tests.db_fixtures import *  # noqa: F403
