"""Household notices: news of a follow-up status for a family that used the bot itself, told once.

Every function takes the session as a keyword argument; writers commit before they return.

    hold(change)         a row per status change the household should hear of (waiting); a newer
                         change of the same record replaces an older notice still waiting
    claim(notice)        waiting -> sending (compare-and-set: one sender wins)
    sent(notice)         the channel took it: the change's household_notified_at is set, row deleted
    release(notice)      the channel could not take it now (a closed window): waiting again, for
                         the household's next contact
    failed(notice)       the send broke half-way: never sent again (it may have arrived), and HR
                         keeps seeing "not told yet"
    rehold(change)       the channel took it but reported later that it did not arrive: waiting
                         again (unless a newer change of the record replaced it), not told

While a row exists for a record, HR sees "not told yet" (`household_told`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, exists, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import DEFAULT_LANGUAGE, Household, IntentRecord, User
from storage.models_channels import FAILED, SENDING, WAITING, HouseholdNotice
from storage.models_followup import StatusChange

HOUSEHOLD = "household"  # household.answered_by when the family used the bot itself


@dataclass(frozen=True)
class Notice:
    """A notice to send: whom (their key), in which language, about which kind of wish and status."""

    id: int
    change_id: int
    key: str
    language: str
    kind: str
    status: str


async def hold(*, session: AsyncSession, change_id: int, now: datetime) -> int | None:
    """A waiting notice for a change when the household used the bot itself and was not told of
    it yet; its id (None: nobody to tell, told already, or held already). Commits."""
    query = (
        select(StatusChange.record_id, Household.answered_by, Household.submitted_by)
        .join(IntentRecord, col(IntentRecord.id) == StatusChange.record_id)
        .join(Household, col(Household.id) == IntentRecord.household_id)
        .where(StatusChange.id == change_id, col(StatusChange.household_notified_at).is_(None))
    )
    found = (await session.exec(query)).first()
    if found is None or found[1] != HOUSEHOLD or not found[2]:
        return None
    record_id, _, key = found
    # An older notice still waiting is about a status that no longer holds: the new one replaces it.
    await session.exec(
        delete(HouseholdNotice).where(
            col(HouseholdNotice.record_id) == record_id, col(HouseholdNotice.state) == WAITING
        )
    )
    notice = HouseholdNotice(change_id=change_id, record_id=record_id, channel_key=key, created_at=now)
    session.add(notice)
    try:
        await session.commit()
    except IntegrityError:  # held already
        await session.rollback()
        return None
    return notice.id


async def waiting_for(*, session: AsyncSession, channel_key: str) -> list[int]:
    """The ids of the notices waiting for a household's key, oldest first (an index lookup)."""
    query = (
        select(HouseholdNotice.id)
        .where(col(HouseholdNotice.channel_key) == channel_key, col(HouseholdNotice.state) == WAITING)
        .order_by(col(HouseholdNotice.id))
    )
    return list((await session.exec(query)).all())


async def all_waiting(*, session: AsyncSession, limit: int = 1000) -> list[tuple[int, str]]:
    """(id, key) of the oldest waiting notices, for the periodic retry."""
    query = (
        select(HouseholdNotice.id, HouseholdNotice.channel_key)
        .where(col(HouseholdNotice.state) == WAITING)
        .order_by(col(HouseholdNotice.id))
        .limit(limit)
    )
    return [(notice_id, key) for notice_id, key in (await session.exec(query)).all()]


async def claim(*, session: AsyncSession, notice_id: int, now: float) -> Notice | None:
    """Take a waiting notice for sending; None when another sender has it or it is gone. Commits."""
    taken = await session.exec(
        update(HouseholdNotice)
        .where(col(HouseholdNotice.id) == notice_id, col(HouseholdNotice.state) == WAITING)
        .values(state=SENDING, claimed_at=now, attempts=HouseholdNotice.attempts + 1)
    )
    if taken.rowcount != 1:
        await session.rollback()
        return None
    query = (
        select(
            HouseholdNotice.change_id, HouseholdNotice.channel_key, StatusChange.new_status, IntentRecord.kind
        )
        .join(StatusChange, col(StatusChange.id) == HouseholdNotice.change_id)
        .join(IntentRecord, col(IntentRecord.id) == HouseholdNotice.record_id)
        .where(col(HouseholdNotice.id) == notice_id)
    )
    change_id, key, status, kind = (await session.exec(query)).one()
    language = (await session.exec(select(User.language).where(User.channel_key == key))).first()
    await session.commit()
    return Notice(notice_id, change_id, key, language or DEFAULT_LANGUAGE, kind, status)


async def sent(*, session: AsyncSession, notice: Notice, now: datetime) -> None:
    """The household was told: note it on the change and forget the notice. Commits."""
    await session.exec(
        update(StatusChange).where(col(StatusChange.id) == notice.change_id).values(household_notified_at=now)
    )
    await session.exec(delete(HouseholdNotice).where(col(HouseholdNotice.id) == notice.id))
    await session.commit()


async def release(*, session: AsyncSession, notice_id: int) -> None:
    """The channel could not take the notice now: it waits for the next contact. Commits."""
    await session.exec(
        update(HouseholdNotice)
        .where(col(HouseholdNotice.id) == notice_id, col(HouseholdNotice.state) == SENDING)
        .values(state=WAITING, claimed_at=None)
    )
    await session.commit()


async def failed(*, session: AsyncSession, notice_id: int) -> None:
    """The send broke and may have arrived: never again, but HR still sees "not told yet". Commits."""
    await session.exec(
        update(HouseholdNotice).where(col(HouseholdNotice.id) == notice_id).values(state=FAILED)
    )
    await session.commit()


async def rehold(*, session: AsyncSession, change_id: int, now: datetime) -> int | None:
    """A notice the channel took but did not deliver waits again; its id (None: a newer change of
    the record replaced it, or nobody to tell). Commits."""
    record_id = (
        await session.exec(select(StatusChange.record_id).where(col(StatusChange.id) == change_id))
    ).first()
    if record_id is None:
        return None
    newer = await session.exec(
        select(StatusChange.id).where(
            col(StatusChange.record_id) == record_id, col(StatusChange.id) > change_id
        )
    )
    if newer.first() is not None:  # the household hears of the newer status instead
        return None
    await session.exec(
        update(StatusChange).where(col(StatusChange.id) == change_id).values(household_notified_at=None)
    )
    return await hold(session=session, change_id=change_id, now=now)


def household_told(record_id: Any) -> Any:
    """For a record: False while a notice is held for its household, True once one was sent, else NULL."""
    held = exists().where(HouseholdNotice.record_id == record_id)
    told = exists().where(
        StatusChange.record_id == record_id, col(StatusChange.household_notified_at).is_not(None)
    )
    return case((held, False), (told, True), else_=None).label("household_told")
