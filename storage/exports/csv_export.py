"""A fast CSV writer for Excel on Chinese Windows: UTF-8 with a BOM, CRLF, ISO dates, no formula injection."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from datetime import date, datetime, tzinfo
from itertools import chain, islice
from operator import attrgetter, itemgetter
from typing import IO, Any

from storage.exports.xlsx import Column, Progress, compiled, output_file, values_getter

BATCH_ROWS = 5_000  # rows handed to one writerows call
PROGRESS_EVERY = 10_000  # rows between progress calls (a multiple of BATCH_ROWS)
FORMULA_STARTS = "=+-@\t\r"  # what spreadsheets may run as a formula (OWASP's list)
_SEPARATOR = "\x1f"  # joins a row's text values for one search; its presence only adds false alarms
_DANGER_INSIDE = r"\x1f[=+\-@\t\r]"  # a literal first character lets the regex engine scan fast
_FIRST_DANGER = tuple(FORMULA_STARTS)  # a tuple, so that the empty string is not "in" it
_MOMENTS = ("date", "datetime")
_PLAIN_DATES = frozenset((date, type(None)))
_PLAIN_STAMPS = frozenset((datetime,))


def write_csv(
    path_or_file: str | os.PathLike[str] | IO[Any],
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    progress: Progress | None = None,
    tz: tzinfo | None = None,
) -> int:
    """Write the header and `rows` as CSV; return the number of data rows."""
    # Text cells starting with = + - @ (or a tab or CR) get a leading apostrophe, so a spreadsheet shows
    # them instead of running them. Dates are YYYY-MM-DD, datetimes YYYY-MM-DD HH:MM:SS at their
    # wall-clock time (converted to `tz` first when given and aware), a form Excel reads as a date.
    with output_file(path_or_file, "w", encoding="utf-8", newline="") as out:
        if isinstance(out, io.TextIOBase):
            return _write(out, columns, rows, progress, tz)
        text = io.TextIOWrapper(out, encoding="utf-8", newline="")
        try:
            return _write(text, columns, rows, progress, tz)
        finally:
            text.flush()
            text.detach()  # the caller's binary file stays open


def neutralised(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] and value[0] in FORMULA_STARTS else value


def _write(
    out: IO[str],
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    progress: Progress | None,
    tz: tzinfo | None,
) -> int:
    """Write the BOM, the header and the rows in batches; return the row count."""
    out.write("\ufeff")  # Excel reads BOM-less CSV in the ANSI code page (GBK on Chinese Windows)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralised(column.header) for column in columns])
    rules = _Rules(columns, tz)
    iterator = iter(rows)
    count = 0
    while batch := list(islice(iterator, BATCH_ROWS)):
        # Most batches need no change at all: checking a whole batch at once runs in C (map, join, set)
        # and leaves csv.writer the rows as they are; only other batches are prepared row by row.
        writer.writerows(batch if rules.untouched(batch) else map(rules.prepare, batch))
        count += len(batch)
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
    if progress is not None:
        progress(count)
    return count


class _Rules:
    """What a row needs before csv.writer sees it: neutralised text, formatted dates, the right width."""

    def __init__(self, columns: Sequence[Column], tz: tzinfo | None) -> None:
        """Precompute the column positions each rule looks at."""
        self.width = len(columns)
        self.tz = tz
        self.texts = [i for i, column in enumerate(columns) if column.kind == "text"]
        self.text_values = values_getter(self.texts)
        self.moments = [
            (i, column.kind == "datetime") for i, column in enumerate(columns) if column.kind in _MOMENTS
        ]
        self.dates = [itemgetter(i) for i, column in enumerate(columns) if column.kind == "date"]
        self.stamps = [itemgetter(i) for i, column in enumerate(columns) if column.kind == "datetime"]
        self.danger_inside = compiled(_DANGER_INSIDE).search

    def untouched(self, batch: list[Sequence[Any]]) -> bool:
        """True when csv.writer can take every row of `batch` as it is."""
        if set(map(len, batch)) != {self.width}:
            return False
        try:  # filter(None) drops None and "", which are harmless
            joined = _SEPARATOR.join(filter(None, chain.from_iterable(map(self.text_values, batch))))
        except TypeError:  # a non-string in a text column
            return False
        if joined[:1] in _FIRST_DANGER or self.danger_inside(joined) is not None:
            return False
        # str() of a date is already YYYY-MM-DD, and of a naive datetime without microseconds the wanted form.
        if any(not set(map(type, map(get, batch))) <= _PLAIN_DATES for get in self.dates):
            return False
        return all(_plain_stamps(list(filter(None, map(get, batch)))) for get in self.stamps)

    def prepare(self, row: Sequence[Any]) -> Sequence[Any]:
        """A copy of the row with dangerous text neutralised and dates formatted."""
        if len(row) != self.width:
            raise ValueError(f"a row has {len(row)} values for {self.width} columns")
        cells = list(row)
        for i in self.texts:
            if isinstance(cells[i], str):
                cells[i] = neutralised(cells[i])
        for i, with_time in self.moments:
            cells[i] = _moment(cells[i], with_time, self.tz)
        return cells


def _plain_stamps(stamps: list[Any]) -> bool:
    """True when every value is a naive datetime without microseconds."""
    return (
        set(map(type, stamps)) <= _PLAIN_STAMPS
        and not any(map(attrgetter("tzinfo"), stamps))
        and not any(map(attrgetter("microsecond"), stamps))
    )


def _moment(value: Any, with_time: bool, tz: tzinfo | None) -> Any:
    """A date as YYYY-MM-DD or a datetime as YYYY-MM-DD HH:MM:SS; anything else unchanged."""
    if isinstance(value, datetime):
        if not with_time:
            return value.date().isoformat()
        if tz is not None and value.tzinfo is not None:
            value = value.astimezone(tz)
        return value.replace(tzinfo=None).isoformat(" ", "seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value
