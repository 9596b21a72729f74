"""The rows of an HR export: one query, streamed, with labels and place names filled in by the database.

The query is built once with SQLAlchemy Core and run two ways:
- on SQLite, compiled to SQL text and run on the stdlib `sqlite3` driver (`sqlite_batches`): rows come
  back as plain tuples in `fetchmany` batches, with nothing done per row in Python. Coded values
  become labels through CASE expressions, place names come from one join to a small temporary table
  (three joins to `area` cost twice as much), and times are formatted by SQLite (`datetime()`);
- elsewhere (PostgreSQL, or the bot's async session), through an async session with `yield_per`
  (`stream_batches`), times as aware datetimes.
Masked numbers come from member_mask and household_mask: a masked export decrypts nothing.
Unmasked exports select the tokens instead; the caller decrypts them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    case,
    column,
    exists,
    false,
    func,
    or_,
    select,
    table,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import aliased
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Area, Household, IntentRecord, Member
from storage.models_channels import HouseholdNotice
from storage.models_followup import HouseholdMask, MemberMask

FIELDS = (
    "record_id", "county", "township", "village", "head_name", "member_name", "relation", "sex", "age",
    "id_number", "phone", "household_status", "kind", "training_type", "trade", "outside_county_ok",
    "contact_time", "status", "status_note", "created_at", "household_told",
)  # fmt: skip
INT_FIELDS = frozenset({"record_id", "age"})
TIME_FIELDS = frozenset({"created_at"})
SECRET_FIELDS = frozenset({"id_number", "phone"})  # tokens in an unmasked export
LABELLED = ("relation", "sex", "household_status", "kind", "training_type", "trade", "contact_time", "status")
OTHER_TRADE = "other:"  # a trade the person typed: shown without the prefix
ARRAYSIZE = 2_000
PLACE_TABLE = "export_place"
VILLAGE_LEVEL = 5
SQLITE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's storage format for DateTime on SQLite


@dataclass(frozen=True)
class ExportQuery:
    """Which records to export and how coded values read."""

    prefixes: tuple[str, ...]  # area code prefixes of the counties (6 digits for one county)
    since: datetime | None = None  # records created at or after this moment
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # field -> code -> text
    unmasked: bool = False
    utc_offset_hours: int = 8  # the wall clock of the readers (China Standard Time)


# ---------------------------------------------------------------- the query


def place_subquery(prefixes: Sequence[str]) -> Select[Any]:
    """Villages under the prefixes with their township's and county's names."""
    village, township, county = aliased(Area), aliased(Area), aliased(Area)
    return (
        select(
            village.code.label("code"),
            county.name.label("county"),
            township.name.label("township"),
            func.coalesce(village.short_name, village.name).label("village"),  # 史庄村, not 史庄村委会
        )
        .select_from(village)
        .outerjoin(township, township.code == village.parent_code)
        .outerjoin(county, county.code == township.parent_code)
        .where(village.level == VILLAGE_LEVEL, or_(false(), *(village.code.startswith(p) for p in prefixes)))
    )


def in_scope(county_code: Any, prefixes: Sequence[str]) -> ColumnElement[bool]:
    """A county code under one of the prefixes; a whole county's compares equal, so its index is used."""
    if not prefixes:
        return false()
    return or_(*(county_code == p if len(p) == 6 else county_code.startswith(p) for p in prefixes))


def build_select(
    query: ExportQuery, places: FromClause, *, text_times: bool, id_range: tuple[int, int] | None = None
) -> Select[Any]:
    """The export query: one row per intent record, FIELDS in order, by record id."""
    record = IntentRecord
    statement = (
        select(*_expressions(query, places, text_times))
        .select_from(record)
        .join(Member, Member.id == record.member_id)
        .join(Household, Household.id == record.household_id)
        .outerjoin(MemberMask, MemberMask.member_id == record.member_id)
        .outerjoin(HouseholdMask, HouseholdMask.household_id == record.household_id)
        .outerjoin(places, places.c.code == record.village_code)
        .where(in_scope(record.county_code, query.prefixes))
        .order_by(record.id)
    )
    if query.since is not None:
        statement = statement.where(record.created_at >= query.since)
    if id_range is not None:
        statement = statement.where(record.id >= id_range[0], record.id < id_range[1])
    return statement


def _expressions(query: ExportQuery, places: FromClause, text_times: bool) -> list[Any]:
    """The selected expressions, in FIELDS order."""
    record = IntentRecord
    labels = {name: _labelled(query, name, column) for name, column in _coded().items()}
    created = record.created_at
    if text_times:  # SQLite: the wall-clock time as text, formatted by the database
        created = func.datetime(record.created_at, f"{query.utc_offset_hours:+d} hours")
    by_field = {
        "record_id": record.id,
        "county": func.coalesce(places.c.county, record.county_code),
        "township": func.coalesce(places.c.township, func.substr(record.village_code, 1, 9)),
        "village": func.coalesce(places.c.village, record.village_code),
        "head_name": Household.head_name,
        "member_name": Member.name,
        "age": Member.age,
        "id_number": Member.id_number_enc if query.unmasked else MemberMask.id_number,
        "phone": Household.phone_enc if query.unmasked else HouseholdMask.phone,
        "trade": _trade(query, record.trade),
        "outside_county_ok": _yes_no(query, record.outside_county_ok),
        "status_note": record.status_note,
        "created_at": created,
        "household_told": _not_told(query, record.id),
        **labels,
    }
    return [by_field[name].label(name) for name in FIELDS]


def _coded() -> dict[str, Any]:
    """The columns shown through labels, by field."""
    return {
        "relation": Member.relation,
        "sex": Member.sex,
        "household_status": Household.status,
        "kind": IntentRecord.kind,
        "training_type": IntentRecord.training_type,
        "contact_time": IntentRecord.contact_time,
        "status": IntentRecord.status,
    }


def _labelled(query: ExportQuery, name: str, column: Any) -> Any:
    """The label of a coded value; an unknown code shows as itself."""
    labels = query.labels.get(name)
    return case(dict(labels), value=column, else_=column) if labels else column


def _trade(query: ExportQuery, column: Any) -> Any:
    """A trade's label, or what the person typed after "other:"."""
    typed = func.substr(column, len(OTHER_TRADE) + 1)
    return case((column.startswith(OTHER_TRADE), typed), else_=_labelled(query, "trade", column))


def _not_told(query: ExportQuery, record_id: Any) -> Any:
    """ "not told yet" while a household notice waits for the family's next contact, else empty.

    One probe of household_notice's record_id index per row; the table holds only waiting notices."""
    held = exists().where(HouseholdNotice.record_id == record_id)
    return case((held, query.labels.get("household_told", {}).get("no", "no")), else_=None)


def _yes_no(query: ExportQuery, column: Any) -> Any:
    """A yes/no answer as words; unknown stays empty."""
    words = query.labels.get("yes_no", {})
    return case((column.is_(True), words.get("true", "1")), (column.is_(False), words.get("false", "0")))


# ---------------------------------------------------------------- SQLite, stdlib driver


def place_table() -> FromClause:
    """The temporary table `sqlite_batches` fills with place names."""
    return table(PLACE_TABLE, column("code"), column("county"), column("township"), column("village"))


def compiled(statement: Any) -> tuple[str, list[Any]]:
    """SQLite SQL text and positional parameters of a Core statement, values stored as the ORM does."""
    result = statement.compile(dialect=sqlite.dialect())
    return str(result), [_stored(result.params[name]) for name in result.positiontup or ()]


def _stored(value: Any) -> Any:
    """A parameter as SQLAlchemy writes it to SQLite: times as naive UTC text (see UTCDateTime)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(SQLITE_TIME_FORMAT)
    return value


def connect_read_only(path: str) -> sqlite3.Connection:
    """A read-only stdlib connection to a SQLite file (WAL lets it read beside the bot's writes)."""
    return sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, check_same_thread=False)


def _create_places(connection: sqlite3.Connection, prefixes: Sequence[str]) -> None:
    """Fill the temporary place table for the villages under the prefixes."""
    connection.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {PLACE_TABLE} "
        "(code TEXT PRIMARY KEY, county TEXT, township TEXT, village TEXT) WITHOUT ROWID"
    )
    sql, params = compiled(place_subquery(prefixes))
    connection.execute(f"INSERT OR REPLACE INTO temp.{PLACE_TABLE} {sql}", params)


def sqlite_batches(
    path: str, query: ExportQuery, *, id_range: tuple[int, int] | None = None, arraysize: int = ARRAYSIZE
) -> Iterator[list[tuple[Any, ...]]]:
    """The export rows in batches, read in one transaction (a consistent snapshot)."""
    connection = connect_read_only(path)
    try:
        _create_places(connection, query.prefixes)
        sql, params = compiled(build_select(query, place_table(), text_times=True, id_range=id_range))
        cursor = connection.execute(sql, params)
        cursor.arraysize = arraysize
        while batch := cursor.fetchmany():
            yield batch
    finally:
        connection.close()


def extent_select(query: ExportQuery) -> Select[Any]:
    """How many records match, and their smallest and largest id."""
    record = IntentRecord
    statement = select(func.count(), func.min(record.id), func.max(record.id)).where(
        in_scope(record.county_code, query.prefixes)
    )
    if query.since is not None:
        statement = statement.where(record.created_at >= query.since)
    return statement


def sqlite_extent(path: str, query: ExportQuery) -> tuple[int, int, int]:
    """How many records match, and their smallest and largest id (0, 0 when none)."""
    sql, params = compiled(extent_select(query))
    connection = connect_read_only(path)
    try:
        total, low, high = connection.execute(sql, params).fetchone()
    finally:
        connection.close()
    return int(total), int(low or 0), int(high or 0)


# ---------------------------------------------------------------- any backend, async session


async def stream_batches(
    session: AsyncSession, query: ExportQuery, *, batch_size: int = ARRAYSIZE
) -> AsyncIterator[list[tuple[Any, ...]]]:
    """The export rows in batches through the session (a server-side cursor on PostgreSQL)."""
    places = place_subquery(query.prefixes).subquery(PLACE_TABLE)
    statement = build_select(query, places, text_times=False).execution_options(yield_per=batch_size)
    result = await session.stream(statement)
    async for partition in result.partitions(batch_size):
        yield [tuple(row) for row in partition]


async def count_matching(session: AsyncSession, query: ExportQuery) -> int:
    """How many records match, through the session."""
    total, _, _ = (await session.exec(extent_select(query))).one()
    return int(total)
