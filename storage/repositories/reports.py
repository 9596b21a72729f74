"""Figures for HR: the weekly summary, the annual progress table's counts, reminders sent, area names.

Every function takes the session as a keyword argument; readers never commit, the reminder claims
commit. All SQL is portable (CASE, COUNT(DISTINCT ...), substr), so SQLite and PostgreSQL agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, distinct, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Area, Household, IntentRecord, Member
from storage.models_followup import ReminderSent
from storage.repositories.export_rows import in_scope

UNITS = ("records", "members", "households")
DATES = ("created_at", "status_changed_at")
BATCH = 500  # codes per IN (...)


# ---------------------------------------------------------------- summary


@dataclass
class Tally:
    """Records in total and created this week."""

    total: int = 0
    week: int = 0

    def add(self, total: int, week: int) -> None:
        """Count more records."""
        self.total += total
        self.week += week


@dataclass
class Summary:
    """Records by township (code), kind of wish and status."""

    total: Tally = field(default_factory=Tally)
    by_township: dict[str, Tally] = field(default_factory=dict)
    by_kind: dict[str, Tally] = field(default_factory=dict)
    by_status: dict[str, Tally] = field(default_factory=dict)


async def summary(*, session: AsyncSession, prefixes: Sequence[str], week_start: datetime) -> Summary:
    """The records under the prefixes, in total and since `week_start`, by township, kind and status."""
    record = IntentRecord
    township = func.substr(record.village_code, 1, 9)
    this_week = func.sum(case((col(record.created_at) >= week_start, 1), else_=0))
    query = (
        select(township, record.kind, record.status, func.count(), this_week)
        .where(in_scope(record.county_code, prefixes))
        .group_by(township, record.kind, record.status)
    )
    result = Summary()
    for code, kind, status, total, week in (await session.exec(query)).all():
        counts = (int(total), int(week or 0))
        result.total.add(*counts)
        for table, key in ((result.by_township, code), (result.by_kind, kind), (result.by_status, status)):
            table.setdefault(key, Tally()).add(*counts)
    return result


async def area_names(*, session: AsyncSession, codes: Iterable[str]) -> dict[str, str]:
    """The names of the known areas among `codes`."""
    wanted = sorted(set(codes))
    names: dict[str, str] = {}
    for start in range(0, len(wanted), BATCH):
        shown = func.coalesce(col(Area.short_name), col(Area.name))  # villages as villagers say them
        query = select(Area.code, shown).where(col(Area.code).in_(wanted[start : start + BATCH]))
        names.update({code: name for code, name in (await session.exec(query)).all()})
    return names


# ---------------------------------------------------------------- the progress table


@dataclass(frozen=True)
class Measure:
    """One counted column: records (or distinct members or households) matching `where` in the period."""

    id: str
    where: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)  # field -> accepted values
    unit: str = "records"
    date: str = "created_at"  # which of the record's dates must fall in the period

    def __post_init__(self) -> None:
        """Refuse what cannot be counted."""
        unknown = sorted(set(self.where) - set(FILTER_FIELDS) - set(DERIVED_FIELDS))
        if unknown or self.unit not in UNITS or self.date not in DATES:
            raise ValueError(f"measure {self.id}: fields {unknown}, unit {self.unit!r}, date {self.date!r}")


FILTER_FIELDS: dict[str, Any] = {
    "kind": IntentRecord.kind,
    "status": IntentRecord.status,
    "training_type": IntentRecord.training_type,
    "trade": IntentRecord.trade,
    "outside_county_ok": IntentRecord.outside_county_ok,
    "has_business_project": IntentRecord.has_business_project,
    "contact_time": IntentRecord.contact_time,
    "household_status": Household.status,
    "relation": Member.relation,
    "sex": Member.sex,
    "education": Member.education,
    "two_after": Member.two_after,
    "labour_capacity": Member.labour_capacity,
    "situation": Member.situation,
}


# 两后生 are young people (notice 二: 应、往届; 三（一）: 适龄, undefined): the bot counts ages 15 to 30,
# the band of the liang_hou_sheng goal in content/policy/benefits.yaml (a test keeps the two equal). The
# intake marks two_after for anyone who left school after junior or senior high, so the age decides here.
LIANG_HOU_SHENG_AGES = (15, 30)


def _liang_hou_sheng() -> Any:
    """1 for a 两后生 by the bot's rule (left school, aged 15 to 30 when registered), else 0."""
    young = col(Member.age).between(*LIANG_HOU_SHENG_AGES)
    return case((and_(col(Member.two_after).in_(("current", "previous")), young), 1), else_=0)


# Fields computed from several columns: name -> the 0/1 expression.
DERIVED_FIELDS: dict[str, Any] = {"liang_hou_sheng": _liang_hou_sheng}


def _matches(column: Any, values: tuple[Any, ...]) -> Any:
    """The column has one of the values (None matches NULL)."""
    known = [value for value in values if value is not None]
    tests = [col(column).in_(known)] if known else []
    if len(known) < len(values):
        tests.append(col(column).is_(None))
    return or_(*tests)


def _condition(name: str, values: tuple[Any, ...]) -> Any:
    """One filter of a measure: a column's values, or a derived field's true/false."""
    if name in DERIVED_FIELDS:
        return DERIVED_FIELDS[name]().in_([1 if value else 0 for value in values])
    return _matches(FILTER_FIELDS[name], values)


def _aggregate(measure: Measure, start: datetime, end: datetime) -> Any:
    """The SQL aggregate of one measure."""
    moment = col(getattr(IntentRecord, measure.date))
    condition = and_(moment >= start, moment < end, *(_condition(f, v) for f, v in measure.where.items()))
    if measure.unit == "records":
        return func.sum(case((condition, 1), else_=0))
    unit = IntentRecord.member_id if measure.unit == "members" else IntentRecord.household_id
    return func.count(distinct(case((condition, unit))))


async def progress_counts(
    *,
    session: AsyncSession,
    measures: Sequence[Measure],
    start: datetime,
    end: datetime,
    prefixes: Sequence[str],
) -> dict[str | None, dict[str, int]]:
    """Each measure per county code (key None: all counties together, counted once)."""
    aggregates = [_aggregate(measure, start, end) for measure in measures]
    in_period = or_(
        and_(col(IntentRecord.created_at) >= start, col(IntentRecord.created_at) < end),
        and_(col(IntentRecord.status_changed_at) >= start, col(IntentRecord.status_changed_at) < end),
    )
    base = (
        select(IntentRecord.county_code, *aggregates)
        .join(Member, col(Member.id) == IntentRecord.member_id)
        .join(Household, col(Household.id) == IntentRecord.household_id)
        .where(in_scope(IntentRecord.county_code, prefixes), in_period)
    )
    ids = [measure.id for measure in measures]
    counts: dict[str | None, dict[str, int]] = {}
    for county, *values in (await session.exec(base.group_by(IntentRecord.county_code))).all():
        counts[county] = {key: int(value or 0) for key, value in zip(ids, values, strict=True)}
    total = (await session.exec(base.with_only_columns(*aggregates))).first() or [0] * len(ids)
    counts[None] = {key: int(value or 0) for key, value in zip(ids, total, strict=True)}
    return counts


# ---------------------------------------------------------------- reminders


async def claim_reminder(*, session: AsyncSession, reminder: str, chat_key: str, now: datetime) -> bool:
    """Claim sending a reminder to a chat (its key): False when it was claimed (sent) before. Commits."""
    session.add(ReminderSent(reminder=reminder, chat_key=chat_key, sent_at=now))
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return False
    return True


async def release_reminder(*, session: AsyncSession, reminder: str, chat_key: str) -> None:
    """Give a claim back after the message could not be sent, so a later run tries again. Commits."""
    statement = delete(ReminderSent).where(
        col(ReminderSent.reminder) == reminder, col(ReminderSent.chat_key) == chat_key
    )
    await session.exec(statement)
    await session.commit()


async def reminders_sent(*, session: AsyncSession, reminder: str) -> list[str]:
    """The chats (keys) a reminder was sent to."""
    query = (
        select(ReminderSent.chat_key)
        .where(ReminderSent.reminder == reminder)
        .order_by(col(ReminderSent.chat_key))
    )
    return list((await session.exec(query)).all())
