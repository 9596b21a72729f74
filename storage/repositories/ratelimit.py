"""Per-user rate limits in fixed windows, in the database so that every worker process sees them.

A table rather than memory: on PostgreSQL the bot may run as several processes, and a limit
that restarts with the process would let an attacker retry invitation codes after each
deploy. The SQL is portable: an UPDATE that counts inside the window, else one that starts a
new window, else an INSERT (a lost race on the INSERT retries the UPDATEs).

Every function that writes commits (the hit must count even when the caller's action fails).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import utc_now
from storage.models_access import RateLimit

HOUR = 3600
# action -> (hits allowed per window, window in seconds)
LIMITS: dict[str, tuple[int, int]] = {
    "invite.redeem_failed": (5, HOUR),  # failed invitation attempts per user
    "hr.export": (10, HOUR),  # exports per user
}


def limit_of(action: str) -> tuple[int, int]:
    """The (limit, window seconds) of an action; ValueError for one without a limit."""
    if action not in LIMITS:
        raise ValueError(f"no rate limit for {action!r}")
    return LIMITS[action]


async def count(*, session: AsyncSession, key: str, action: str, now: datetime | None = None) -> int:
    """Hits in the current window (0 when it has ended). Does not commit."""
    _, window = limit_of(action)
    row = await session.get(RateLimit, (key, action), populate_existing=True)
    if row is None or row.window_start <= (now or utc_now()) - timedelta(seconds=window):
        return 0
    return row.count


async def limited(*, session: AsyncSession, key: str, action: str, now: datetime | None = None) -> bool:
    """True when the key has used up the action's limit in the current window. Does not commit."""
    allowed, _ = limit_of(action)
    return await count(session=session, key=key, action=action, now=now) >= allowed


async def hit(*, session: AsyncSession, key: str, action: str, now: datetime | None = None) -> int:
    """Count one hit; returns the hits in the current window. Commits."""
    _, window = limit_of(action)
    now = now or utc_now()
    for _ in range(3):  # at most a couple of lost INSERT races
        counted = await _increment(session, key, action, now, now - timedelta(seconds=window))
        if counted is not None:
            await session.commit()
            return counted
    raise RuntimeError(f"could not count a hit for {action}")


async def attempt(*, session: AsyncSession, key: str, action: str, now: datetime | None = None) -> bool:
    """Count a hit unless the limit is reached: True when the action may go ahead. Commits."""
    if await limited(session=session, key=key, action=action, now=now):
        return False
    await hit(session=session, key=key, action=action, now=now)
    return True


async def _increment(
    session: AsyncSession, key: str, action: str, now: datetime, cutoff: datetime
) -> int | None:
    """Add one inside the window, or start a new window; None after a lost INSERT race."""
    this = (col(RateLimit.key) == key) & (col(RateLimit.action) == action)
    inside = update(RateLimit).where(this, col(RateLimit.window_start) > cutoff)
    if (await session.exec(inside.values(count=RateLimit.count + 1))).rowcount:
        return await _current(session, key, action)
    # Only a window that has really ended restarts: a row another transaction has just inserted
    # (and committed since our first UPDATE) is counted by the retry, never reset.
    ended = col(RateLimit.window_start) <= cutoff
    expired = update(RateLimit).where(this, ended).values(count=1, window_start=now)
    if (await session.exec(expired)).rowcount:
        return 1
    session.add(RateLimit(key=key, action=action, window_start=now, count=1))
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        return None
    return 1


async def _current(session: AsyncSession, key: str, action: str) -> int:
    """The stored count, read without the session's cached row."""
    statement = select(RateLimit.count).where(RateLimit.key == key, RateLimit.action == action)
    return int((await session.exec(statement)).one())
