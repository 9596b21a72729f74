"""Roles and scopes of users: load a `Member` for access decisions, grant, list and revoke.

Every function takes the session as a keyword argument. Writers commit before they return;
readers never commit. The role is `user.role`; scopes are rows of `access_scope`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import DEFAULT_LANGUAGE, DEFAULT_ROLE, User, utc_now
from storage.models_access import Member, Scope

Scopes = tuple[tuple[str, str], ...]


def telegram_id_of(key: str) -> int | None:
    """The Telegram user id inside a channel key such as "tg:12345"."""
    prefix, _, rest = key.partition(":")
    return int(rest) if prefix == "tg" and rest.lstrip("-").isdigit() else None


async def _user(session: AsyncSession, channel_key: str) -> User | None:
    """The user row of a channel key, or None."""
    return (await session.exec(select(User).where(User.channel_key == channel_key))).first()


async def _scopes(session: AsyncSession, user_id: int | None) -> Scopes:
    """The (level, code) scopes of a user, sorted."""
    statement = select(Scope.level, Scope.code).where(Scope.user_id == user_id)
    rows = (await session.exec(statement.order_by(col(Scope.level), col(Scope.code)))).all()
    return tuple((level, code) for level, code in rows)


async def load_member(*, session: AsyncSession, channel_key: str) -> Member:
    """The member behind a channel key; unknown keys are households without scopes. Does not commit."""
    user = await _user(session, channel_key)
    if user is None:
        return Member(channel_key)
    scopes = await _scopes(session, user.id) if user.role != DEFAULT_ROLE else ()
    return Member(channel_key, user.role, scopes)


async def _ensure_user(session: AsyncSession, channel_key: str) -> User:
    """The user of a channel key, added to the session (not committed) when new."""
    user = await _user(session, channel_key)
    if user is None:
        user = User(
            channel_key=channel_key, telegram_id=telegram_id_of(channel_key), language=DEFAULT_LANGUAGE
        )
        session.add(user)
        await session.flush()
    return user


async def grant(
    *,
    session: AsyncSession,
    channel_key: str,
    role: str,
    scopes: Iterable[tuple[str, str]],
    commit: bool = True,
) -> Member:
    """Give a key a role and add scopes (kept when the role is the same, replaced otherwise). Commits."""
    user = await _ensure_user(session, channel_key)
    wanted = set(scopes)
    if user.role != role:
        await session.exec(delete(Scope).where(col(Scope.user_id) == user.id))
        user.role, user.updated_at = role, utc_now()
    else:
        wanted -= set(await _scopes(session, user.id))
    session.add_all(Scope(user_id=user.id, level=level, code=code) for level, code in sorted(wanted))
    await session.flush()
    member = Member(channel_key, role, await _scopes(session, user.id))
    if commit:
        await session.commit()
    return member


async def revoke(*, session: AsyncSession, channel_key: str) -> int | None:
    """Make a key a household again and delete its scopes; the user's row id, or None. Commits."""
    user = await _user(session, channel_key)
    if user is None:
        return None
    await session.exec(delete(Scope).where(col(Scope.user_id) == user.id))
    user.role, user.updated_at = DEFAULT_ROLE, utc_now()
    await session.commit()
    return user.id


async def list_members(*, session: AsyncSession) -> list[tuple[User, Member]]:
    """Every user with a role other than household, by role and key. Does not commit."""
    statement = select(User).where(User.role != DEFAULT_ROLE).order_by(col(User.role), col(User.channel_key))
    users = list((await session.exec(statement)).all())
    return [(user, Member(user.channel_key, user.role, await _scopes(session, user.id))) for user in users]
