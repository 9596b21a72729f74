"""The layout of 《技能脱贫千校行动进展情况表》 as content data (content/reports/progress_table.yaml).

Its official columns are not public (see the YAML's head), so the layout is data an HR officer edits,
checked here: a broken file stops `outreach report progress` with a message naming the entry and field.
Pure: no I/O beyond reading the file, no storage.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from content.errors import ContentError
from dialogs.model import LANGUAGES

DEFAULT_PATH = Path(__file__).parent / "reports" / "progress_table.yaml"
UNITS = ("records", "members", "households")
DATES = ("created_at", "status_changed_at")
FIELDS = (
    "kind", "status", "training_type", "trade", "outside_county_ok", "has_business_project", "contact_time",
    "household_status", "relation", "sex", "education", "two_after", "labour_capacity", "situation",
    "liang_hou_sheng",
)  # fmt: skip
COLUMN_ID = r"[a-z][a-z0-9_]{0,39}"  # re caches the compiled pattern on first use


@dataclass(frozen=True)
class TableColumn:
    """One column: a count of records (or members, households) or a sum of earlier columns."""

    id: str
    headers: Mapping[str, str]
    note: Mapping[str, str]
    where: Mapping[str, tuple[Any, ...]] | None = None  # None for a sum
    unit: str = "records"
    date: str = "created_at"
    sum: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableLayout:
    """The table's title and columns, in order."""

    title: Mapping[str, str]
    columns: tuple[TableColumn, ...]

    def counted(self) -> list[TableColumn]:
        """The columns counted from records (the others are sums)."""
        return [column for column in self.columns if column.where is not None]


def load_layout(path: str | Path = DEFAULT_PATH) -> TableLayout:
    """The checked layout in `path`; ContentError names what is wrong."""
    shown = Path(path).name
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ContentError(shown, "file", "-", f"cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ContentError(shown, "file", "-", f"invalid YAML: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != 1:
        raise ContentError(shown, "file", "version", "must be a mapping with version: 1")
    title = _texts(shown, "title", "title", data.get("title"))
    columns = data.get("columns")
    if not isinstance(columns, list) or not columns:
        raise ContentError(shown, "file", "columns", "must be a non-empty list")
    parsed: list[TableColumn] = []
    for index, raw in enumerate(columns, 1):
        parsed.append(_column(shown, f"column {index}", raw, [c.id for c in parsed]))
    return TableLayout(title, tuple(parsed))


def _texts(shown: str, entry: str, name: str, value: Any, required: bool = True) -> dict[str, str]:
    """A text in every language."""
    if value is None and not required:
        return {}
    if not isinstance(value, dict) or any(
        not isinstance(value.get(lang), str) or not value[lang] for lang in LANGUAGES
    ):
        raise ContentError(shown, entry, name, f"needs a non-empty text for each of {', '.join(LANGUAGES)}")
    return {lang: value[lang] for lang in LANGUAGES}


def _column(shown: str, entry: str, raw: Any, earlier: Sequence[str]) -> TableColumn:
    """One checked column."""
    if not isinstance(raw, dict):
        raise ContentError(shown, entry, "-", "must be a mapping")
    column_id = raw.get("id")
    if not isinstance(column_id, str) or not re.fullmatch(COLUMN_ID, column_id) or column_id in earlier:
        raise ContentError(shown, entry, "id", "must be a new lower-case name (letters, digits, _)")
    entry = f"column {column_id}"
    headers = _texts(shown, entry, "headers", raw.get("headers"))
    note = _texts(shown, entry, "note", raw.get("note"), required=False)
    unknown = sorted(set(raw) - {"id", "headers", "note", "count", "unit", "date", "sum"})
    if unknown:
        raise ContentError(shown, entry, unknown[0], "unknown key")
    if ("count" in raw) == ("sum" in raw):
        raise ContentError(shown, entry, "count", "give exactly one of count and sum")
    if "sum" in raw:
        return TableColumn(column_id, headers, note, sum=_sum(shown, entry, raw["sum"], earlier))
    unit, date = raw.get("unit", "records"), raw.get("date", "created_at")
    if unit not in UNITS:
        raise ContentError(shown, entry, "unit", f"must be one of {', '.join(UNITS)}")
    if date not in DATES:
        raise ContentError(shown, entry, "date", f"must be one of {', '.join(DATES)}")
    return TableColumn(column_id, headers, note, _where(shown, entry, raw["count"]), unit, date)


def _where(shown: str, entry: str, raw: Any) -> dict[str, tuple[Any, ...]]:
    """The conditions of a count: field -> accepted values."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ContentError(shown, entry, "count", "must be a mapping of field: value or [values]")
    where: dict[str, tuple[Any, ...]] = {}
    for name, value in raw.items():
        if name not in FIELDS:
            raise ContentError(shown, entry, f"count.{name}", f"unknown field; one of {', '.join(FIELDS)}")
        values = tuple(value) if isinstance(value, list) else (value,)
        if not values or any(not isinstance(v, str | bool) and v is not None for v in values):
            raise ContentError(shown, entry, f"count.{name}", "values must be codes, true, false or null")
        where[name] = values
    return where


def _sum(shown: str, entry: str, raw: Any, earlier: Sequence[str]) -> tuple[str, ...]:
    """The earlier columns a sum adds up."""
    if not isinstance(raw, list) or not raw or any(item not in earlier for item in raw):
        raise ContentError(shown, entry, "sum", "must list columns defined before this one")
    return tuple(raw)


def fill_sums(layout: TableLayout, counts: Mapping[str, int]) -> list[int]:
    """The values of every column in order, sums computed from the counted ones."""
    values: dict[str, int] = {}
    for column in layout.columns:
        if column.where is None:
            values[column.id] = sum(values[item] for item in column.sum)
        else:
            values[column.id] = int(counts.get(column.id, 0))
    return [values[column.id] for column in layout.columns]
