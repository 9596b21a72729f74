"""User rows: create on first contact, read, change the language.

Every function takes the session as a keyword argument. Functions that write commit before
they return (the caller gets a row that other sessions can see); readers never commit.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import User, utc_now


async def get_user(*, session: AsyncSession, channel_key: str) -> User | None:
    """The user of `channel_key`, or None. Does not commit."""
    result = await session.exec(select(User).where(User.channel_key == channel_key))
    return result.first()


async def ensure_user(
    *, session: AsyncSession, channel_key: str, telegram_id: int | None = None, language: str
) -> User:
    """The user of `channel_key`, created with `language` if new. Commits when it writes.

    An existing user keeps their language; `language` only seeds a new row. A Telegram id is
    filled in if the row has none yet. If another worker creates the same user at the same
    moment, the session is rolled back and that worker's row is returned.
    """
    user = await get_user(session=session, channel_key=channel_key)
    if user is None:
        return await _create_user(
            session=session, channel_key=channel_key, telegram_id=telegram_id, language=language
        )
    if telegram_id is not None and user.telegram_id is None:
        user.telegram_id = telegram_id
        await session.commit()
    return user


async def set_language(*, session: AsyncSession, channel_key: str, language: str) -> None:
    """Store the user's language. Commits. Raises LookupError if there is no such user."""
    statement = (
        update(User).where(User.channel_key == channel_key).values(language=language, updated_at=utc_now())
    )
    result = await session.exec(statement)
    if result.rowcount == 0:
        await session.rollback()
        raise LookupError(f"no user with channel key {channel_key!r}")
    await session.commit()


async def _create_user(
    *, session: AsyncSession, channel_key: str, telegram_id: int | None, language: str
) -> User:
    """Insert a user and commit; on a lost race return the row the winner inserted."""
    user = User(channel_key=channel_key, telegram_id=telegram_id, language=language)
    session.add(user)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        winner = await get_user(session=session, channel_key=channel_key)
        if winner is None:  # the clash was on telegram_id, under another channel key
            raise
        return winner
    return user
