"""Deleting rows with every row that refers to them, sweeping text, and compacting SQLite afterwards.

Dependents are found from the foreign keys in SQLModel.metadata (storage.schema registers every
feature's tables), so a table added later by another feature that refers to a household, a
member or an intent record is emptied of those rows too, without changes here; `sweep_text`
does the same for free text that no foreign key leads to.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Column, Table, Text, delete, select, text, update
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import schema  # noqa: F401 - registers every table on SQLModel.metadata

log = logging.getLogger(__name__)
BATCH = 500  # values per IN (...): far below both backends' parameter limits
# Not swept: the audit log holds no personal data; dialog states are dropped whole by erasure,
# and the caller's own one is locked by its turn (touching it here would wait for ourselves).
SKIP_TABLES = frozenset({"audit_log", "conversation"})


def referencing(column: Column[Any]) -> Iterator[tuple[Table, Column[Any]]]:
    """(table, column) pairs whose foreign key points at `column`."""
    for table in SQLModel.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column is column:
                yield table, key.parent  # type: ignore[misc]


def _batches(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """Slices of at most BATCH values."""
    for start in range(0, len(values), BATCH):
        yield values[start : start + BATCH]


async def delete_rows(
    session: AsyncSession, table: Table, column: Column[Any], values: Iterable[Any], deleted: dict[str, set]
) -> None:
    """Delete the rows of `table` whose `column` is in `values`, dependents first; note their keys."""
    values = sorted(set(values))
    if not values:
        return
    (key,) = table.primary_key.columns  # every table that others refer to has a one-column key
    done = deleted.setdefault(table.name, set())
    found = [row[0] for batch in _batches(values) for row in await _select(session, key, column, batch)]
    keys = [k for k in found if k not in done]
    for child, child_column in referencing(key):
        await delete_rows(session, child, child_column, keys, deleted)
    for batch in _batches(keys):
        await session.exec(delete(table).where(key.in_(batch)))  # type: ignore[call-overload]
    done.update(keys)


async def _select(session: AsyncSession, key: Column[Any], column: Column[Any], values: Sequence[Any]) -> Any:
    """The primary keys of the rows whose `column` is in `values`."""
    return (await session.exec(select(key).where(column.in_(values)))).all()  # type: ignore[call-overload]


def counts(deleted: dict[str, set]) -> dict[str, int]:
    """Rows deleted per table, leaving out tables with none."""
    return {name: len(keys) for name, keys in sorted(deleted.items()) if keys}


def _text_columns(skip: frozenset[str]) -> Iterator[tuple[Table, Column[Any]]]:
    """Free-text columns (Text type) of every table but SKIP_TABLES and `skip`."""
    for table in SQLModel.metadata.sorted_tables:
        if table.name in SKIP_TABLES | skip or len(table.primary_key.columns) != 1:
            continue
        for column in table.columns:
            if isinstance(column.type, Text):
                yield table, column


async def sweep_text(
    session: AsyncSession, needles: Iterable[str], *, skip: frozenset[str] = frozenset()
) -> int:
    """Cut every occurrence of the needles (names) out of free-text columns; rows changed.

    A last pass after the specific clean-ups, for text that other features keep (a digest
    message already sent to HR, a note) and that no foreign key leads to.
    """
    changed = 0
    for table, column in _text_columns(skip):
        (key,) = table.primary_key.columns
        for needle in needles:
            hits = select(key, column).where(column.contains(needle, autoescape=True))
            for row_key, value in (await session.exec(hits)).all():  # type: ignore[call-overload]
                await session.exec(  # type: ignore[call-overload]
                    update(table).where(key == row_key).values({column.name: value.replace(needle, "")})
                )
                changed += 1
    return changed


async def compact(session: AsyncSession) -> bool:
    """On SQLite, rewrite the file so deleted text leaves no trace in free pages or the WAL.

    SQLite keeps deleted rows' bytes in free pages (and old page images in the WAL) until they
    are reused; VACUUM rebuilds the file and a TRUNCATE checkpoint empties the WAL. Best effort:
    a busy database is logged and left for the next run. PostgreSQL keeps dead tuples until
    (auto)vacuum; its files are not reachable by the application's users.
    """
    bind = session.bind
    if bind is None or bind.dialect.name != "sqlite":
        return False
    try:
        async with bind.connect() as connection:  # type: ignore[union-attr]
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM"))
            await autocommit.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    except OperationalError as error:
        log.warning("could not compact the SQLite file now: %s", error)
        return False
    return True
