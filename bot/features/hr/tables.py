"""Tables county HR offices open in Excel: the export's columns and labels, and the annual progress table.

No aiogram here: the CLI (`outreach export`, `outreach report progress`) imports this module.
Headers and value labels come from the `hr` catalogs; which codes have labels is read from the
catalogs too (keys `hr.v.<field>.<code>`), so a new code needs a catalog entry, not code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from content.i18n import Translator
from content.progress_table import TableLayout, fill_sums
from storage.exports.xlsx import Column, Sheet, write_xlsx
from storage.hr_export import ExportJob
from storage.repositories.export_rows import FIELDS, INT_FIELDS, TIME_FIELDS, ExportQuery
from storage.repositories.reports import Measure

CHINA = timezone(timedelta(hours=8))  # China Standard Time has no daylight saving
VALUE_PREFIX = "hr.v."
WIDTHS = {
    "record_id": 10, "county": 10, "township": 12, "village": 12, "head_name": 10, "member_name": 10,
    "relation": 11, "sex": 6, "age": 6, "id_number": 21, "phone": 14, "household_status": 15, "kind": 14,
    "training_type": 18, "trade": 14, "outside_county_ok": 11, "contact_time": 13, "status": 14,
    "status_note": 30, "created_at": 20, "household_told": 12,
}  # fmt: skip
FULL_HEADERS = {"id_number": "hr.col.id_number_full", "phone": "hr.col.phone_full"}


# ---------------------------------------------------------------- export


def export_columns(t: Translator, *, unmasked: bool = False) -> list[Column]:
    """The export's columns in FIELDS order: headers in the reader's language, widths, kinds."""
    columns = []
    for name in FIELDS:
        key = FULL_HEADERS[name] if unmasked and name in FULL_HEADERS else f"hr.col.{name}"
        kind = "int" if name in INT_FIELDS else "datetime" if name in TIME_FIELDS else "text"
        columns.append(Column(t.text(key), WIDTHS[name], kind))
    return columns


def value_labels(t: Translator) -> dict[str, dict[str, str]]:
    """Every coded value with a label in the catalogs: field -> code -> label."""
    labels: dict[str, dict[str, str]] = {}
    for key in sorted(set(t.messages) | set(t.fallback)):
        if key.startswith(VALUE_PREFIX) and key.count(".") == 3:
            field, code = key.removeprefix(VALUE_PREFIX).split(".")
            labels.setdefault(field, {})[code] = t.text(key)
    return labels


def export_query(
    t: Translator, prefixes: Sequence[str], *, since: datetime | None = None, unmasked: bool = False
) -> ExportQuery:
    """The export query for these counties, labels in the reader's language."""
    return ExportQuery(prefixes=tuple(prefixes), since=since, labels=value_labels(t), unmasked=unmasked)


def export_job(
    url: str, t: Translator, query: ExportQuery, out: Path, fmt: str, workers: int | None = None
) -> ExportJob:
    """The whole export job."""
    columns = export_columns(t, unmasked=query.unmasked)
    return ExportJob(url, query, columns, out, fmt, sheet_name=t.text("hr.export.sheet"), workers=workers)


def day_start(day: date) -> datetime:
    """Midnight of a day in China, as an aware datetime in UTC."""
    return datetime.combine(day, time(0), CHINA).astimezone(UTC)


def week_start(now: datetime) -> datetime:
    """Monday 00:00 of the current week in China."""
    today = now.astimezone(CHINA).date()
    return day_start(today - timedelta(days=today.weekday()))


# ---------------------------------------------------------------- the progress table


def measures(layout: TableLayout) -> list[Measure]:
    """What to count for the layout's counted columns."""
    return [Measure(c.id, dict(c.where or {}), c.unit, c.date) for c in layout.counted()]


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The year in China, as UTC moments [start, end)."""
    return day_start(date(year, 1, 1)), day_start(date(year + 1, 1, 1))


def progress_rows(
    layout: TableLayout,
    counts: Mapping[str | None, Mapping[str, int]],
    names: Mapping[str, str],
    t: Translator,
) -> list[list[Any]]:
    """One row per county (by code), then the total row."""
    rows: list[list[Any]] = []
    for county in sorted(code for code in counts if code is not None):
        rows.append([county, names.get(county, county), *fill_sums(layout, counts[county])])
    total = counts.get(None, {})
    rows.append(["", t.text("hr.progress.total"), *fill_sums(layout, total)])
    return rows


def progress_columns(layout: TableLayout, t: Translator) -> list[Column]:
    """The code and name of the county, then the layout's columns."""
    lang = t.lang
    first = [Column(t.text("hr.progress.county_code"), 12), Column(t.text("hr.progress.county"), 14)]
    return first + [
        Column(c.headers[lang], max(10, 2 * len(c.headers[lang]) + 2), "int") for c in layout.columns
    ]


def notes_sheet(layout: TableLayout, t: Translator, year: int) -> Sheet:
    """The sheet "说明": the disclaimer, the year and each column's definition."""
    lang = t.lang
    rows: list[list[str]] = [
        ["", t.text("hr.progress.disclaimer")],
        ["", t.text("hr.progress.period", {"year": year})],
    ]
    for column in layout.columns:
        rows.append([column.headers[lang], column.note.get(lang) or _definition(column, layout, t)])
    columns = [
        Column(t.text("hr.progress.notes_column"), 30),
        Column(t.text("hr.progress.notes_meaning"), 100),
    ]
    return Sheet(t.text("hr.progress.notes_sheet"), columns, rows)


def _definition(column: Any, layout: TableLayout, t: Translator) -> str:
    """A column's definition in words, from its unit, date and conditions."""
    lang = t.lang
    if column.where is None:
        headers = {c.id: c.headers[lang] for c in layout.columns}
        return t.text("hr.progress.sum", {"columns": t.text("hr.sep").join(headers[i] for i in column.sum)})
    conditions = t.text("hr.progress.and").join(
        _condition(name, values, t) for name, values in column.where.items()
    )
    return t.text(
        "hr.progress.definition",
        {
            "unit": t.text(f"hr.progress.unit.{column.unit}"),
            "date": t.text(f"hr.progress.date.{column.date}"),
            "conditions": conditions or t.text("hr.progress.all"),
        },
    )


def _condition(field: str, values: Sequence[Any], t: Translator) -> str:
    """One condition in the reader's words ("两后生：应届、往届"), never the layout's internal names."""
    labels = value_labels(t).get(field, {})
    words = [t.text("hr.progress.empty") if v is None else labels.get(str(v), str(v)) for v in values]
    header = f"hr.col.{field}"
    name = t.text(header) if header in t.messages or header in t.fallback else field
    return t.text("hr.progress.condition", {"field": name, "values": t.text("hr.progress.or").join(words)})


def write_progress(
    out: Path | Any,
    layout: TableLayout,
    counts: Mapping[str | None, Mapping[str, int]],
    names: Mapping[str, str],
    t: Translator,
    year: int,
) -> int:
    """Write the progress table (and its notes sheet) as XLSX; the number of county rows."""
    rows = progress_rows(layout, counts, names, t)
    sheet = t.text("hr.progress.sheet")
    write_xlsx(
        out, progress_columns(layout, t), rows, sheet_name=sheet, extra_sheets=[notes_sheet(layout, t, year)]
    )
    return len(rows) - 1
