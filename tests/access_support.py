"""Shared pieces of the access tests: both backends, a Database, a cipher, intake data, access effects.

Fixtures are named `url`, `db` and `cipher`; import them into a test module by their function names:
`from tests.access_support import cipher_fixture, db_fixture, url_fixture  # noqa: F401`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from storage.crypto import Cipher
from storage.db import Database
from storage.repositories.intake import submit_intake
from tests.db_fixtures import MIGRATED_BACKENDS as BACKENDS

SECRET = "test-secret-0123456789-abcdefghijklmnop"
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
VILLAGE = "410225101201"


def resident_id(region: str, birth: str, serial: str) -> str:
    """A resident ID number with a valid check character (GB 11643)."""
    body = region + birth + serial
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


@pytest.fixture(name="url", params=BACKENDS)
def url_fixture(request: pytest.FixtureRequest) -> str:
    """A migrated database of each backend."""
    return request.getfixturevalue(request.param)


@pytest.fixture(name="db")
async def db_fixture(url: str) -> AsyncIterator[Database]:
    """A Database on it."""
    database = Database.from_url(url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture(name="cipher")
def cipher_fixture() -> Cipher:
    """The cipher the tests store with."""
    return Cipher.from_secret(SECRET)


def member(name: str, id_number: str | None, **overrides: Any) -> dict[str, Any]:
    """A member as the intake dialog produces it: a 16-year-old who wants a technical school."""
    data = {
        "name": name,
        "relation": "child",
        "sex": "male",
        "age": 16,
        "birth_date": None,
        "id_number": id_number,
        "education": "junior_high_graduate",
        "two_after": "current",
        "labour_capacity": "full",
        "situation": "at_home",
        "guardian_consent": None,
        "wish": {"kind": "technical_school", "trade": "electrician", "contact_time": "evening"},
    }
    return {**data, **overrides}


def submission(head: str, head_id: str, phone: str, number: str, *others: dict, **overrides: Any) -> dict:
    """A whole intake: the head (no wish) and the other members given."""
    head_member = member(head, head_id, relation="head", age=48, two_after=None, wish={"kind": "none"})
    data = {
        "version": 1,
        "answered_by": "worker",
        "village_code": VILLAGE,
        "household": {
            "head_name": head,
            "status": "registered_poor",
            "household_number": number,
            "phone": phone,
        },
        "members": [head_member, *others],
        "consent": {"given": True, "text_version": "v1", "text": "同意", "language": "zh_Hans"},
    }
    return {**data, **overrides}


async def submit(db: Database, cipher: Cipher, data: dict, who: str = "tg:500", **kwargs: Any) -> Any:
    """submit_intake in a session of its own."""
    async with db.session() as session:
        return await submit_intake(
            session=session, submission=data, cipher=cipher, submitted_by=who, now=kwargs.pop("now", NOW)
        )
