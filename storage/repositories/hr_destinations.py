"""HR destinations: which chats (channel keys) get which county, their health, who is told when one breaks.

Every function takes the session as a keyword argument; the writers commit before they return.
Removing a destination is a soft delete: its history stays, its waiting deliveries are cancelled and
their outbox entries go back to the router, so they reach the county's other (or next) destination.
Adding it again revives it, and its cancelled deliveries with it; that also repairs a broken one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Area, Outbox, User
from storage.models_delivery import (
    CANCELLED,
    DELIVERED,
    ERROR_LENGTH,
    OPEN_DIGEST_STATUSES,
    PENDING,
    ROUTED,
    Delivery,
    DeliveryDigest,
    HrDestination,
)

ADMIN_ROLE = "admin"


@dataclass(frozen=True)
class DestinationRow:
    """A destination with its delivery counts, for `outreach hr list`."""

    destination: HrDestination
    waiting: int
    delivered: int


async def add_destination(
    *, session: AsyncSession, county_code: str, chat_key: str, added_by: str, now: datetime
) -> tuple[HrDestination, bool]:
    """The destination, created (True) or revived and repaired (False). Commits."""
    found = await _find(session, county_code, chat_key)
    if found is None:
        found = HrDestination(county_code=county_code, chat_key=chat_key, added_by=added_by, created_at=now)
        session.add(found)
        await session.commit()
        return found, True
    found.removed_at = found.broken_at = found.last_error = None
    found.failures, found.next_attempt_at = 0, 0.0
    await session.exec(
        update(Delivery)
        .where(Delivery.destination_id == found.id, Delivery.status == CANCELLED)
        .values(status=PENDING, digest_id=None)
    )
    await session.commit()
    return found, False


async def remove_destination(
    *, session: AsyncSession, county_code: str, chat_key: str, now: datetime
) -> int | None:
    """Stop delivering to the chat; its id, or None when it is not an active destination. Commits."""
    found = await _find(session, county_code, chat_key)
    if found is None or found.removed_at is not None:
        return None
    found.removed_at, found.claimed_by, found.claimed_until = now, None, None
    await session.exec(
        update(DeliveryDigest)
        .where(
            DeliveryDigest.destination_id == found.id, col(DeliveryDigest.status).in_(OPEN_DIGEST_STATUSES)
        )
        .values(status=CANCELLED)
    )
    await session.exec(
        update(Delivery)
        .where(Delivery.destination_id == found.id, Delivery.status == PENDING)
        .values(status=CANCELLED, digest_id=None)
    )
    await _reroute_orphans(session)
    destination_id = found.id
    await session.commit()
    return destination_id


async def _reroute_orphans(session: AsyncSession) -> None:
    """Routed outbox entries with no live delivery left go back to the router."""
    live = exists().where(Delivery.outbox_id == Outbox.id, col(Delivery.status).in_((PENDING, DELIVERED)))
    await session.exec(update(Outbox).where(Outbox.status == ROUTED, ~live).values(status=PENDING))


async def list_destinations(*, session: AsyncSession, include_removed: bool = False) -> list[DestinationRow]:
    """Every destination by county and chat, with how many records wait and were delivered."""
    query = select(HrDestination).order_by(col(HrDestination.county_code), col(HrDestination.chat_key))
    if not include_removed:
        query = query.where(col(HrDestination.removed_at).is_(None))
    destinations = list((await session.exec(query)).all())
    counts = await _counts(session)
    return [
        DestinationRow(d, counts.get((d.id, PENDING), 0), counts.get((d.id, DELIVERED), 0))
        for d in destinations
    ]


async def _counts(session: AsyncSession) -> dict[tuple[int, str], int]:
    """Deliveries by destination and status."""
    query = select(Delivery.destination_id, Delivery.status, func.count()).group_by(
        col(Delivery.destination_id), col(Delivery.status)
    )
    return {(d, s): n for d, s, n in (await session.exec(query)).all()}


async def was_active(*, session: AsyncSession, county_code: str, chat_key: str) -> bool:
    """True when the county's digests already go to the chat (neither removed nor broken)."""
    found = await _find(session, county_code, chat_key)
    return found is not None and found.removed_at is None and found.broken_at is None


async def _find(session: AsyncSession, county_code: str, chat_key: str) -> HrDestination | None:
    """The destination row of a county and chat, removed or not."""
    query = select(HrDestination).where(
        HrDestination.county_code == county_code, HrDestination.chat_key == chat_key
    )
    return (await session.exec(query)).first()


# ---------------------------------------------------------------- health


async def record_success(*, session: AsyncSession, destination_id: int) -> None:
    """A step succeeded: the count of consecutive failures starts again. Commits."""
    await session.exec(
        update(HrDestination)
        .where(HrDestination.id == destination_id, HrDestination.failures > 0)
        .values(failures=0, last_error=None, next_attempt_at=0.0)
    )
    await session.commit()


async def record_failure(
    *,
    session: AsyncSession,
    destination_id: int,
    error: str,
    retry_at: float,
    max_failures: int,
    now: datetime,
) -> HrDestination | None:
    """Count a failure and back off; the destination if this failure broke it (only once). Commits."""
    await session.exec(
        update(HrDestination)
        .where(HrDestination.id == destination_id)
        .values(
            failures=HrDestination.failures + 1, last_error=error[:ERROR_LENGTH], next_attempt_at=retry_at
        )
    )
    broke = await session.exec(
        update(HrDestination)
        .where(HrDestination.id == destination_id, HrDestination.failures >= max_failures)
        .where(col(HrDestination.broken_at).is_(None))
        .values(broken_at=now)
    )
    await session.commit()
    if broke.rowcount != 1:
        return None
    return await session.get(HrDestination, destination_id)


async def move_chat(*, session: AsyncSession, destination_id: int, chat_key: str) -> None:
    """The chat has a new key (a group became a supergroup): deliver there from now on. Commits."""
    await session.exec(
        update(HrDestination).where(HrDestination.id == destination_id).values(chat_key=chat_key)
    )
    await session.commit()


async def admin_keys(*, session: AsyncSession) -> list[tuple[str, str]]:
    """(channel key, language) of every admin, in key order; the caller picks the ones it can reach."""
    query = (
        select(User.channel_key, User.language).where(User.role == ADMIN_ROLE).order_by(col(User.channel_key))
    )
    return [(key, language) for key, language in (await session.exec(query)).all()]


async def area_names(*, session: AsyncSession, codes: Iterable[str]) -> dict[str, str]:
    """The names of the known areas among `codes`."""
    wanted = sorted(set(codes))
    names: dict[str, str] = {}
    for start in range(0, len(wanted), 500):  # far below both backends' bound-parameter limits
        shown = func.coalesce(col(Area.short_name), col(Area.name))  # villages as villagers say them
        query = select(Area.code, shown).where(col(Area.code).in_(wanted[start : start + 500]))
        names.update(dict((await session.exec(query)).all()))
    return names
