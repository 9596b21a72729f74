"""Writing an HR export file (CSV or XLSX) from the export query: streamed, in flat memory, fast.

    SQLite ──► stdlib sqlite3, fetchmany batches ──► (XLSX: text times to datetimes) ──► writer
    PostgreSQL ──► async session, yield_per, in a thread ──► bounded queue ──► writer

A large CSV export from SQLite is split by record id into one part per CPU (storage.hr_export_parts):
on one process the query and the writer each cost about 4 µs a row with 20 columns (most of it making
Python strings), so no single process reaches 200,000 rows/s; two processes can. Unmasked exports
decrypt each number (Fernet, about 10 µs each) in the process that writes, and run in one process so
that the key never crosses a process boundary.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from itertools import chain
from pathlib import Path
from typing import Any

from storage.crypto import Cipher
from storage.db import Database
from storage.exports.csv_export import write_csv
from storage.exports.xlsx import Column, Progress, write_xlsx
from storage.hr_export_parts import split_ids, write_in_parts
from storage.repositories.export_rows import (
    FIELDS,
    SECRET_FIELDS,
    TIME_FIELDS,
    ExportQuery,
    count_matching,
    sqlite_batches,
    sqlite_extent,
    stream_batches,
)
from storage.threaded import batches_in_thread
from storage.urls import parse_url

FORMATS = ("csv", "xlsx")
PARALLEL_MIN_ROWS = 100_000  # below this, starting processes costs more than it saves
MAX_WORKERS = 4


@dataclass(frozen=True)
class ExportJob:
    """What to export where: the columns are in FIELDS order, time columns of kind "datetime"."""

    url: str
    query: ExportQuery
    columns: Sequence[Column]
    out: Path
    fmt: str = "xlsx"
    sheet_name: str = "Sheet1"
    workers: int | None = None  # None: one per CPU, at most MAX_WORKERS

    def __post_init__(self) -> None:
        """Refuse what cannot be written."""
        if self.fmt not in FORMATS:
            raise ValueError(f"format {self.fmt!r}: one of {', '.join(FORMATS)}")
        if len(self.columns) != len(FIELDS):
            raise ValueError(f"{len(FIELDS)} columns are needed, not {len(self.columns)}")


def reader_tz(query: ExportQuery) -> timezone:
    """The readers' wall clock."""
    return timezone(timedelta(hours=query.utc_offset_hours))


def count_records(url: str, query: ExportQuery) -> int:
    """How many records the export will hold."""
    path = _sqlite_path(url)
    if path is not None:
        return sqlite_extent(path, query)[0]
    return asyncio.run(_count_async(url, query))


async def _count_async(url: str, query: ExportQuery) -> int:
    """The count through an async session of its own."""
    database = Database.from_url(url)
    try:
        async with database.session() as session:
            return await count_matching(session, query)
    finally:
        await database.dispose()


def export_file(job: ExportJob, *, progress: Progress | None = None, cipher: Cipher | None = None) -> int:
    """Write the export; the number of records written."""
    if job.query.unmasked and cipher is None:
        raise ValueError("an unmasked export needs the cipher")
    path = _sqlite_path(job.url)
    if path is not None and job.fmt == "csv" and not job.query.unmasked:
        workers = job.workers or min(MAX_WORKERS, os.cpu_count() or 1)
        total, low, high = sqlite_extent(path, job.query) if workers > 1 else (0, 0, 0)
        if total >= PARALLEL_MIN_ROWS:
            ranges = split_ids(low, high + 1, workers)
            return write_in_parts(path, job.query, writer_columns(job), job.out, ranges, progress)
    return _write(job, writer_columns(job), export_rows(job, cipher), progress)


def export_rows(job: ExportJob, cipher: Cipher | None = None) -> Iterator[Sequence[Any]]:
    """The rows of the export as its writer takes them (one process, streamed)."""
    path = _sqlite_path(job.url)
    if path is not None:
        return _rows(sqlite_batches(path, job.query), job, cipher, text_times=True)
    batches = batches_in_thread(lambda: _session_batches(job.url, job.query))
    return _rows(batches, job, cipher, text_times=False)


def writer_columns(job: ExportJob) -> list[Column]:
    """The columns the writer gets: a CSV from SQLite has its times as text already."""
    if job.fmt == "csv" and _sqlite_path(job.url) is not None:
        return text_time_columns(job.columns)
    return list(job.columns)


def _sqlite_path(url: str) -> str | None:
    """The file of a SQLite URL, None for other databases."""
    parsed = parse_url(url)
    return parsed.sqlite_path if parsed.is_sqlite else None


# ---------------------------------------------------------------- rows


def _rows(
    batches: Iterable[list[tuple]], job: ExportJob, cipher: Cipher | None, *, text_times: bool
) -> Iterator[Sequence[Any]]:
    """The rows of the batches, changed only where they must be (times for XLSX, decryption)."""
    convert = _converter(job, cipher, text_times)
    if convert is None:
        return chain.from_iterable(batches)
    return chain.from_iterable(map(convert, batches))


def _converter(
    job: ExportJob, cipher: Cipher | None, text_times: bool
) -> Callable[[list[tuple]], list[Any]] | None:
    """A function converting a batch, or None when rows go to the writer as they are."""
    times = [FIELDS.index(name) for name in TIME_FIELDS] if text_times and job.fmt == "xlsx" else []
    secrets = [FIELDS.index(name) for name in SECRET_FIELDS] if job.query.unmasked else []
    if not times and not secrets:
        return None
    parse = datetime.fromisoformat

    def convert(batch: list[tuple]) -> list[Any]:
        """One batch, its times parsed and its tokens decrypted."""
        out = []
        for row in batch:
            cells = list(row)
            for i in times:
                cells[i] = parse(cells[i]) if cells[i] else None
            for i in secrets:
                cells[i] = cipher.decrypt(cells[i]) if cells[i] and cipher else None
            out.append(cells)
        return out

    return convert


def _write(
    job: ExportJob, columns: Sequence[Column], rows: Iterable[Sequence[Any]], progress: Progress | None
) -> int:
    """Write rows with the job's writer."""
    tz = reader_tz(job.query)
    if job.fmt == "csv":
        return write_csv(job.out, columns, rows, progress=progress, tz=tz)
    return write_xlsx(job.out, columns, rows, sheet_name=job.sheet_name, progress=progress, tz=tz)


def text_time_columns(columns: Sequence[Column]) -> list[Column]:
    """The CSV columns when SQLite formats the times: they arrive as text, ready to write."""
    return [replace(c, kind="text") if c.kind in ("date", "datetime") else c for c in columns]


# ---------------------------------------------------------------- other backends


async def _session_batches(url: str, query: ExportQuery) -> AsyncIterator[list[tuple]]:
    """The export rows through an async session of its own."""
    database = Database.from_url(url)
    try:
        async with database.session() as session:
            async for batch in stream_batches(session, query):
                yield batch
    finally:
        await database.dispose()
