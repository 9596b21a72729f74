"""Shared fixtures: databases (tests/db_fixtures.py) and the fake Bot API (tests/fakebot.py).

A database without areas is seeded with a small extract of the real list (兰考县, tests/area_support.py),
not the 55,164 shipped areas: the tests of the shipped list name it explicitly.
"""

import os

from tests.area_support import LANKAO_CSV
from tests.db_fixtures import *  # noqa: F403

os.environ["AREAS_FILES"] = str(LANKAO_CSV)
