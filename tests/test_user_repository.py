"""storage.repositories.users on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC

import pytest

from storage.db import Database
from storage.models import DEFAULT_ROLE, UserPublic
from storage.repositories import users
from storage.repositories.users import ensure_user, get_user, set_language
from tests.db_fixtures import MIGRATED_BACKENDS as BACKENDS


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """A Database on a migrated database of each backend."""
    database = Database.from_url(request.getfixturevalue(request.param))
    try:
        yield database
    finally:
        await database.dispose()


async def test_get_missing_user(db: Database) -> None:
    async with db.session() as session:
        assert await get_user(session=session, channel_key="tg:1") is None


async def test_ensure_user_creates_then_finds(db: Database) -> None:
    telegram_id = 7_000_000_000  # above 2**31: needs BIGINT
    async with db.session() as session:
        created = await ensure_user(
            session=session, channel_key=f"tg:{telegram_id}", telegram_id=telegram_id, language="en"
        )
    assert created.id is not None
    assert created.role == DEFAULT_ROLE
    async with db.session() as session:
        found = await ensure_user(session=session, channel_key=f"tg:{telegram_id}", language="zh_Hans")
        assert found.id == created.id
        assert found.language == "en"  # an existing user keeps their language
        assert found.telegram_id == telegram_id
        assert found.created_at.tzinfo is not None
        assert found.created_at.utcoffset() == UTC.utcoffset(None)


async def test_console_users_have_no_telegram_id(db: Database) -> None:
    async with db.session() as session:
        first = await ensure_user(session=session, channel_key="console:local", language="zh_Hans")
        second = await ensure_user(session=session, channel_key="console:other", language="zh_Hans")
    assert first.telegram_id is None and second.telegram_id is None
    assert first.id != second.id


async def test_ensure_user_fills_a_missing_telegram_id(db: Database) -> None:
    async with db.session() as session:
        await ensure_user(session=session, channel_key="tg:5", language="en")
        await ensure_user(session=session, channel_key="tg:5", telegram_id=5, language="en")
    async with db.session() as session:
        user = await get_user(session=session, channel_key="tg:5")
    assert user is not None and user.telegram_id == 5


async def test_set_language(db: Database) -> None:
    async with db.session() as session:
        created = await ensure_user(session=session, channel_key="tg:1", telegram_id=1, language="zh_Hans")
    async with db.session() as session:
        await set_language(session=session, channel_key="tg:1", language="en")
    async with db.session() as session:
        user = await get_user(session=session, channel_key="tg:1")
    assert user is not None
    assert user.language == "en"
    assert user.updated_at >= created.updated_at
    assert user.updated_at.tzinfo is not None


async def test_set_language_of_a_missing_user(db: Database) -> None:
    async with db.session() as session:
        with pytest.raises(LookupError):
            await set_language(session=session, channel_key="tg:404", language="en")


async def test_losing_a_creation_race_returns_the_winner(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with db.session() as session:
        winner = await ensure_user(session=session, channel_key="tg:9", telegram_id=9, language="en")

    real_get_user = users.get_user
    calls = 0

    async def stale_get_user(**kwargs: object) -> object:
        # The first look misses the row, as if the other worker had not committed yet.
        nonlocal calls
        calls += 1
        return None if calls == 1 else await real_get_user(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(users, "get_user", stale_get_user)
    async with db.session() as session:
        loser = await ensure_user(session=session, channel_key="tg:9", telegram_id=9, language="zh_Hans")
    assert loser.id == winner.id
    assert loser.language == "en"


async def test_public_shape(db: Database) -> None:
    async with db.session() as session:
        user = await ensure_user(session=session, channel_key="tg:3", telegram_id=3, language="en")
    public = UserPublic.model_validate(user)
    assert public.model_dump().keys() >= {
        "id",
        "channel_key",
        "telegram_id",
        "language",
        "role",
        "created_at",
    }
