"""What the HR console reads: the wishes list with filters and keyset paging, and a household's page.

Readers only; every query is limited to area code prefixes the caller has checked (the officer's
counties) and shows masked numbers from the mask tables, never decrypting. Paging is by keyset
(`id < cursor`, newest first) on the (county_code, id) index, so page 500 costs what page 1 does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Household, IntentRecord, Member
from storage.models_followup import HouseholdMask, MemberMask, StatusChange
from storage.repositories.export_rows import in_scope
from storage.repositories.notices import household_told


@dataclass(frozen=True)
class WishFilter:
    """What the officer narrowed the list to; None means any."""

    township: str | None = None  # 9 digits
    village: str | None = None  # 12 digits
    kind: str | None = None
    status: str | None = None
    two_after: bool = False  # 两后生 only
    since: datetime | None = None  # registered at or after


@dataclass(frozen=True)
class WishRow:
    """One wish in the list: names, codes and masked numbers only."""

    record_id: int
    household_id: int
    village_code: str
    kind: str
    status: str
    name: str
    age: int | None
    two_after: str | None
    head_name: str
    phone: str | None  # masked
    created_at: datetime


def _conditions(prefixes: Sequence[str], wanted: WishFilter) -> list[Any]:
    """The WHERE clauses of a filtered list."""
    record = IntentRecord
    where: list[Any] = [in_scope(record.county_code, prefixes)]
    if wanted.village:
        where.append(record.village_code == wanted.village)
    elif wanted.township:
        where.append(col(record.village_code).startswith(wanted.township))
    if wanted.kind:
        where.append(record.kind == wanted.kind)
    if wanted.status:
        where.append(record.status == wanted.status)
    if wanted.two_after:
        where.append(col(Member.two_after).is_not(None))
    if wanted.since is not None:
        where.append(col(record.created_at) >= wanted.since)
    return where


async def wishes_page(
    *,
    session: AsyncSession,
    prefixes: Sequence[str],
    wanted: WishFilter,
    before_id: int | None,
    limit: int,
) -> tuple[list[WishRow], int | None]:
    """One page of wishes, newest first, and the cursor of the next page (None on the last)."""
    record = IntentRecord
    query = (
        select(
            record.id,
            record.household_id,
            record.village_code,
            record.kind,
            record.status,
            Member.name,
            Member.age,
            Member.two_after,
            Household.head_name,
            HouseholdMask.phone,
            record.created_at,
        )
        .join(Member, col(Member.id) == record.member_id)
        .join(Household, col(Household.id) == record.household_id)
        .outerjoin(HouseholdMask, col(HouseholdMask.household_id) == record.household_id)
        .where(*_conditions(prefixes, wanted))
        .order_by(col(record.id).desc())
        .limit(limit + 1)
    )
    if before_id is not None:
        query = query.where(col(record.id) < before_id)
    rows = [WishRow(*row) for row in (await session.exec(query)).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].record_id if more and rows else None)


# ---------------------------------------------------------------- a household


@dataclass(frozen=True)
class MemberRow:
    """A member as the household page shows them."""

    member_id: int
    name: str
    relation: str
    sex: str | None
    age: int | None
    education: str
    two_after: str | None
    id_number: str | None  # masked


@dataclass(frozen=True)
class RecordRow:
    """A wish on the household page, with its eligibility result (JSON) and status."""

    record_id: int
    member_id: int
    county_code: str
    kind: str
    trade: str | None
    status: str
    status_note: str | None
    eligibility: str | None
    created_at: datetime
    told: bool | None  # the household: None nobody to tell, False a notice waits ("not told yet")


@dataclass(frozen=True)
class HouseholdPage:
    """Everything the household page shows."""

    household_id: int
    village_code: str
    head_name: str
    poverty_status: str
    answered_by: str
    phone: str | None  # masked
    household_number: str | None  # masked
    members: list[MemberRow]
    records: list[RecordRow]
    history: list[StatusChange]


async def household_page(*, session: AsyncSession, household_id: int) -> HouseholdPage | None:
    """A household with its members, wishes and status history, or None."""
    found = (
        await session.exec(
            select(Household, HouseholdMask)
            .outerjoin(HouseholdMask, col(HouseholdMask.household_id) == Household.id)
            .where(Household.id == household_id)
        )
    ).first()
    if found is None:
        return None
    household, masks = found
    members = await _members(session, household_id)
    records = await _records(session, household_id)
    history = await _history(session, [row.record_id for row in records])
    return HouseholdPage(
        household_id, household.village_code, household.head_name, household.status, household.answered_by,
        masks.phone if masks else None, masks.household_number if masks else None, members, records, history,
    )  # fmt: skip


async def _members(session: AsyncSession, household_id: int) -> list[MemberRow]:
    """The members of a household, in the order they were entered."""
    query = (
        select(
            Member.id,
            Member.name,
            Member.relation,
            Member.sex,
            Member.age,
            Member.education,
            Member.two_after,
            MemberMask.id_number,
        )
        .outerjoin(MemberMask, col(MemberMask.member_id) == Member.id)
        .where(Member.household_id == household_id)
        .order_by(col(Member.id))
    )
    return [MemberRow(*row) for row in (await session.exec(query)).all()]


async def _records(session: AsyncSession, household_id: int) -> list[RecordRow]:
    """The wishes of a household, oldest first."""
    record = IntentRecord
    query = (
        select(
            record.id,
            record.member_id,
            record.county_code,
            record.kind,
            record.trade,
            record.status,
            record.status_note,
            record.eligibility,
            record.created_at,
            household_told(record.id),
        )
        .where(record.household_id == household_id)
        .order_by(col(record.id))
    )
    return [RecordRow(*row) for row in (await session.exec(query)).all()]


async def _history(session: AsyncSession, record_ids: list[int]) -> list[StatusChange]:
    """The status changes of some records, oldest first."""
    if not record_ids:
        return []
    query = (
        select(StatusChange).where(col(StatusChange.record_id).in_(record_ids)).order_by(col(StatusChange.id))
    )
    return list((await session.exec(query)).all())


async def household_of(*, session: AsyncSession, record_id: int) -> int | None:
    """The household of a record, or None."""
    query = select(IntentRecord.household_id).where(IntentRecord.id == record_id)
    return (await session.exec(query)).first()


async def township_kind_counts(
    *, session: AsyncSession, prefixes: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Records under the prefixes by township code and kind of wish (for the chart)."""
    record = IntentRecord
    township = func.substr(record.village_code, 1, 9)
    query = (
        select(township, record.kind, func.count())
        .where(in_scope(record.county_code, prefixes))
        .group_by(township, record.kind)
        .order_by(township)
    )
    counts: dict[str, dict[str, int]] = {}
    for code, kind, total in (await session.exec(query)).all():
        counts.setdefault(code, {})[kind] = int(total)
    return counts
