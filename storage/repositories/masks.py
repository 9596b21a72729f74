"""Precomputed masks of personal numbers (member_mask, household_mask), so masked views never decrypt.

`refresh` runs inside the intake transaction for the rows a submission touched; `fill_missing`
catches up rows stored before migration 0006 (or by any other path) and is cheap when none lack
a mask. Both only add to the caller's transaction; `fill_missing` commits what it filled.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import exists
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.crypto import Cipher, mask_household_number, mask_id, mask_phone
from storage.models import Household, Member
from storage.models_followup import HouseholdMask, MemberMask

BATCH = 500  # rows per round of fill_missing


def _open(cipher: Cipher, token: str | None) -> str | None:
    """The plain number of a token, or None."""
    return cipher.decrypt(token) if token else None


def member_mask(cipher: Cipher, member: Member) -> MemberMask:
    """The mask row of a member."""
    plain = _open(cipher, member.id_number_enc)
    return MemberMask(member_id=member.id, id_number=mask_id(plain) if plain else None)


def household_mask(cipher: Cipher, household: Household) -> HouseholdMask:
    """The mask row of a household."""
    phone = _open(cipher, household.phone_enc)
    number = _open(cipher, household.household_number_enc)
    return HouseholdMask(
        household_id=household.id,
        phone=mask_phone(phone) if phone else None,
        household_number=mask_household_number(number) if number else None,
    )


async def refresh(
    *,
    session: AsyncSession,
    cipher: Cipher,
    household_ids: Iterable[int | None],
    member_ids: Iterable[int | None],
) -> None:
    """Recompute the masks of these rows (None ids are skipped). Flushes, does not commit."""
    households = sorted({key for key in household_ids if key is not None})
    members = sorted({key for key in member_ids if key is not None})
    if households:
        rows = (await session.exec(select(Household).where(col(Household.id).in_(households)))).all()
        for row in rows:
            await session.merge(household_mask(cipher, row))
    if members:
        people = (await session.exec(select(Member).where(col(Member.id).in_(members)))).all()
        for person in people:
            await session.merge(member_mask(cipher, person))
    await session.flush()


async def fill_missing(*, session: AsyncSession, cipher: Cipher) -> int:
    """Add the masks that rows lack; the number of rows filled. Commits after each batch."""
    filled = 0
    while True:
        members = await _members_without_mask(session)
        households = await _households_without_mask(session)
        if not members and not households:
            return filled
        session.add_all(member_mask(cipher, row) for row in members)
        session.add_all(household_mask(cipher, row) for row in households)
        await session.commit()
        filled += len(members) + len(households)


async def _members_without_mask(session: AsyncSession) -> list[Member]:
    """Up to BATCH members that have no mask row."""
    has_mask = exists().where(MemberMask.member_id == Member.id)
    return list((await session.exec(select(Member).where(~has_mask).limit(BATCH))).all())


async def _households_without_mask(session: AsyncSession) -> list[Household]:
    """Up to BATCH households that have no mask row."""
    has_mask = exists().where(HouseholdMask.household_id == Household.id)
    return list((await session.exec(select(Household).where(~has_mask).limit(BATCH))).all())
