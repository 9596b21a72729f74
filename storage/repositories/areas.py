"""Area rows: import a CSV list of codes (adding, renaming, retiring), read children, load the picker's rows.

Every function takes the session as a keyword argument. `import_areas` and `seed_if_empty`
commit (or roll back and raise); the readers never commit.
"""

from __future__ import annotations

import csv
import gzip
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib.resources import files
from pathlib import Path
from typing import Any

from sqlalchemy import Insert, func, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from content.area_names import short_name
from storage.models import Area

COLUMNS = ("code", "name", "parent_code", "level")
CODE_LENGTHS = {1: 6, 2: 6, 3: 6, 4: 9, 5: 12}
# How many leading digits an area of each level passes on to its children (410000 -> "41").
OWN_DIGITS = {0: 0, 1: 2, 2: 4, 3: 6, 4: 9, 5: 12}
MAX_NAME_LENGTH = 64
AREAS_FILES = "AREAS_FILES"  # environment variable naming other lists to seed (see seed_csv_paths)
BATCH_SIZE = 500  # rows per statement: far below the bound-parameter limits of both backends
DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class _Row:
    """A checked row and where it came from."""

    where: str
    code: str
    name: str
    parent_code: str | None
    level: int

    def values(self) -> dict[str, Any]:
        """The row as column values."""
        return {"code": self.code, "name": self.name, "parent_code": self.parent_code, "level": self.level}


# ---------------------------------------------------------------- reading CSV files


def shipped_csv_paths() -> list[Path]:
    """The area lists shipped in content/areas (`.csv` or `.csv.gz`), loaded into an empty database."""
    folder = Path(str(files("content") / "areas"))
    return sorted([*folder.glob("*.csv"), *folder.glob("*.csv.gz")])


def seed_csv_paths() -> list[Path]:
    """The lists seeded into a database without areas: AREAS_FILES (comma-separated) or the shipped ones.

    AREAS_FILES lets a deployment in another province start from its own list, and the tests from a
    small extract of the real one.
    """
    chosen = [part.strip() for part in os.environ.get(AREAS_FILES, "").split(",") if part.strip()]
    return [Path(part) for part in chosen] if chosen else shipped_csv_paths()


def read_csv(path: str | Path) -> list[dict[str, Any]]:
    """The rows of an area CSV file (gzip-compressed when it ends in .gz), each with its `line`.

    Raise ValueError for an unreadable file.
    """
    path = Path(path)
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
            return _read_rows(handle, path.name)
    except UnicodeDecodeError:
        raise ValueError(f"{path.name}: not UTF-8 text") from None
    except (gzip.BadGzipFile, EOFError):
        raise ValueError(f"{path.name}: not a gzip file") from None


def _read_rows(handle: Iterable[str], source: str) -> list[dict[str, Any]]:
    """Rows of an open CSV file, after checking its header."""
    reader = csv.DictReader(handle)
    try:
        if reader.fieldnames is None or tuple(n.strip() for n in reader.fieldnames) != COLUMNS:
            raise ValueError(f"{source} line 1: the header must be {','.join(COLUMNS)}")
        reader.fieldnames = list(COLUMNS)
        return [{**row, "line": reader.line_num, "source": source} for row in reader if any(row.values())]
    except csv.Error as exc:
        raise ValueError(f"{source} line {reader.line_num}: {exc}") from None


# ---------------------------------------------------------------- checking rows


def check_rows(rows: Iterable[Mapping[str, Any]], known: Mapping[str, int]) -> list[_Row]:
    """Check every row against the others and the `known` levels of stored codes; raise ValueError."""
    checked = [_check_row(row, number) for number, row in enumerate(rows, start=2)]
    levels = _unique_levels(checked)
    for row in checked:
        _check_parent(row, levels, known)
    return checked


def parent_codes_outside(rows: Iterable[Mapping[str, Any]]) -> set[str]:
    """Parent codes the rows name but do not contain (to be looked up in the database)."""
    rows = list(rows)
    codes = {str(row.get("code") or "").strip() for row in rows}
    parents = {str(row.get("parent_code") or "").strip() for row in rows}
    return parents - codes - {""}


def _check_row(row: Mapping[str, Any], number: int) -> _Row:
    """One row on its own: level, code, name, parent code."""
    where = _where(row, number)
    extra = row.get(None)  # csv.DictReader puts surplus fields there
    if extra:
        raise ValueError(f"{where}: more than {len(COLUMNS)} fields")
    level = _level(where, row.get("level"))
    code = _code(where, str(row.get("code") or "").strip(), level)
    name = str(row.get("name") or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"{where}: the name of {code} must be 1 to {MAX_NAME_LENGTH} characters")
    parent = str(row.get("parent_code") or "").strip() or None
    _check_parent_code(where, code, level, parent)
    return _Row(where, code, name, parent, level)


def _where(row: Mapping[str, Any], number: int) -> str:
    """Where a row is, for error messages: its line, and its file when known."""
    line = f"line {row.get('line') or number}"
    return f"{row['source']} {line}" if row.get("source") else line


def _level(where: str, raw: Any) -> int:
    """The level, 1 (province) to 5 (village)."""
    text = str(raw if raw is not None else "").strip()
    if text not in {"1", "2", "3", "4", "5"}:
        raise ValueError(f"{where}: level must be 1 to 5, got {text!r}")
    return int(text)


def _code(where: str, code: str, level: int) -> str:
    """A code of the right length whose digits fit its level (410000, 410200, 410225, ...)."""
    length = CODE_LENGTHS[level]
    own = code[OWN_DIGITS[level - 1] : OWN_DIGITS[level]]
    tail = code[OWN_DIGITS[level] :]
    if not DIGITS.fullmatch(code) or len(code) != length:
        raise ValueError(f"{where}: code {code!r} must be {length} digits for level {level}")
    if not own.strip("0") or tail.strip("0"):
        raise ValueError(f"{where}: code {code} does not look like a level {level} code")
    return code


def _check_parent_code(where: str, code: str, level: int, parent: str | None) -> None:
    """Provinces have no parent; every other code starts with its parent's digits."""
    if level == 1:
        if parent is not None:
            raise ValueError(f"{where}: {code} is a province and cannot have a parent")
        return
    if parent is None:
        raise ValueError(f"{where}: {code} needs a parent_code")
    if not code.startswith(parent[: OWN_DIGITS[level - 1]]) or len(parent) != CODE_LENGTHS[level - 1]:
        raise ValueError(f"{where}: code {code} does not start with its parent's digits ({parent})")


def _unique_levels(rows: Sequence[_Row]) -> dict[str, int]:
    """Level by code; raise ValueError when a code appears twice."""
    levels: dict[str, int] = {}
    first: dict[str, str] = {}
    for row in rows:
        if row.code in levels:
            raise ValueError(f"{row.where}: code {row.code} already appears on {first[row.code]}")
        levels[row.code], first[row.code] = row.level, row.where
    return levels


def _check_parent(row: _Row, levels: Mapping[str, int], known: Mapping[str, int]) -> None:
    """The parent exists (in the rows or the database) one level up."""
    if row.parent_code is None:
        return
    parent_level = levels.get(row.parent_code, known.get(row.parent_code))
    if parent_level is None:
        raise ValueError(f"{row.where}: parent {row.parent_code} is neither in the file nor in the database")
    if parent_level != row.level - 1:
        raise ValueError(
            f"{row.where}: parent {row.parent_code} is level {parent_level}, not {row.level - 1}"
        )


# ---------------------------------------------------------------- writing


@dataclass(frozen=True)
class ImportReport:
    """What an import changed."""

    added: int = 0
    renamed: int = 0
    retired: int = 0
    restored: int = 0  # retired codes the new list has again
    unchanged: int = 0

    def __str__(self) -> str:
        """One line for people: `added 3, renamed 1, retired 2, restored 0, unchanged 55158`."""
        return ", ".join(f"{name} {getattr(self, name)}" for name in self.__dataclass_fields__)


@dataclass(frozen=True)
class _Stored:
    """The columns of a stored area an import compares."""

    name: str
    short_name: str | None
    retired: bool


Progress = Callable[[int, int], None]  # (rows written, rows to write)


async def import_areas(
    *, session: AsyncSession, rows: Iterable[Mapping[str, Any]], progress: Progress | None = None
) -> ImportReport:
    """Check the rows, then add, rename, restore and retire areas in one transaction. Commits.

    Rows are mappings with the CSV columns (and optionally `line` and `source`, as `read_csv`
    gives them). A bad row raises ValueError naming its line, and nothing is written. A stored
    code missing from the rows is retired (kept for old records, no longer offered) when the rows
    hold its province: a list of one province retires nothing elsewhere, a partial list nothing.
    """
    rows = list(rows)
    try:
        known = await _stored_levels(session, parent_codes_outside(rows))
        checked = check_rows(rows, known)
        stored = await _stored_areas(session)
        writes, report = _plan(checked, stored)
        await _write(session, writes, progress)
        gone = _gone(checked, stored)
        await _retire(session, gone)
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return replace(report, retired=len(gone))


def _plan(
    checked: Sequence[_Row], stored: Mapping[str, _Stored]
) -> tuple[list[dict[str, Any]], ImportReport]:
    """The rows to write (new, renamed, restored or without a short name yet) and the counts."""
    writes: list[dict[str, Any]] = []
    added = renamed = restored = unchanged = 0
    for row in checked:
        before = stored.get(row.code)
        short = short_name(row.name, row.level)
        if before is None:
            added += 1
        elif before.retired:
            restored += 1
        elif before.name != row.name:
            renamed += 1
        elif before.short_name == short:
            unchanged += 1
            continue
        writes.append({**row.values(), "short_name": short, "retired": False})
    return writes, ImportReport(added, renamed, 0, restored, unchanged)


def _gone(checked: Sequence[_Row], stored: Mapping[str, _Stored]) -> list[str]:
    """Stored codes, not yet retired, of the rows' provinces that the rows no longer hold."""
    provinces = tuple(row.code[: OWN_DIGITS[1]] for row in checked if row.level == 1)
    listed = {row.code for row in checked}
    return (
        sorted(
            code
            for code, area in stored.items()
            if not area.retired and code.startswith(provinces) and code not in listed
        )
        if provinces
        else []
    )


async def _write(session: AsyncSession, writes: Sequence[dict[str, Any]], progress: Progress | None) -> None:
    """Upsert the rows in batches, telling `progress` after each."""
    statement = _upsert(await _dialect(session))
    for done, batch in enumerate(_batches(writes), start=1):
        await session.exec(statement, params=batch)
        if progress is not None:
            progress(min(done * BATCH_SIZE, len(writes)), len(writes))


async def _retire(session: AsyncSession, codes: Sequence[str]) -> None:
    """Mark the codes retired."""
    for batch in _batches(codes):
        await session.exec(update(Area).where(col(Area.code).in_(batch)).values(retired=True))


async def seed_if_empty(*, session: AsyncSession, csv_paths: Iterable[str | Path]) -> int:
    """Import the CSV files when no area was imported since migration 0008; return how many rows.

    An empty table gets the shipped list; so does a table filled before 0008 (no short names
    yet), whose codes missing from the list are then retired. Commits when it writes.
    """
    imported = await session.exec(select(Area.code).where(col(Area.short_name).is_not(None)).limit(1))
    if imported.first() is not None:
        return 0
    rows = [row for path in csv_paths for row in read_csv(path)]
    await import_areas(session=session, rows=rows)
    return len(rows)


async def _stored_areas(session: AsyncSession) -> dict[str, _Stored]:
    """Every stored area by code (what an import compares against)."""
    query = select(Area.code, Area.name, Area.short_name, Area.retired)
    return {
        code: _Stored(name, short, bool(retired))
        for code, name, short, retired in (await session.exec(query)).all()
    }


async def _stored_levels(session: AsyncSession, codes: set[str]) -> dict[str, int]:
    """Level by code for the stored areas among `codes`."""
    levels: dict[str, int] = {}
    for batch in _batches(sorted(codes)):
        result = await session.exec(select(Area.code, Area.level).where(col(Area.code).in_(batch)))
        levels.update({code: level for code, level in result.all()})
    return levels


async def _dialect(session: AsyncSession) -> str:
    """The name of the backend the session talks to."""
    return (await session.connection()).dialect.name


def _upsert(dialect: str) -> Insert:
    """INSERT ... ON CONFLICT (code) DO UPDATE, as both SQLite and PostgreSQL spell it."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Area.__table__)  # type: ignore[arg-type]
    changed = {
        name: statement.excluded[name] for name in ("name", "parent_code", "level", "short_name", "retired")
    }
    return statement.on_conflict_do_update(index_elements=["code"], set_=changed)


def _batches(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """Slices of at most BATCH_SIZE items."""
    for start in range(0, len(items), BATCH_SIZE):
        yield items[start : start + BATCH_SIZE]


# ---------------------------------------------------------------- reading


async def children(
    *, session: AsyncSession, parent_code: str | None, with_retired: bool = False
) -> list[Area]:
    """The areas directly under `parent_code` (the provinces for None), by code. Does not commit."""
    parent = col(Area.parent_code)
    condition = parent.is_(None) if parent_code is None else parent == parent_code
    query = select(Area).where(condition)
    if not with_retired:
        query = query.where(col(Area.retired).is_(False))
    result = await session.exec(query.order_by(col(Area.code)))
    return list(result.all())


async def get_area(*, session: AsyncSession, code: str) -> Area | None:
    """The area of `code`, or None. Does not commit."""
    return await session.get(Area, code)


async def load_all(*, session: AsyncSession) -> list[Area]:
    """Every area, by level and code, retired ones included. Does not commit."""
    result = await session.exec(select(Area).order_by(col(Area.level), col(Area.code)))
    return list(result.all())


# The picker's rows, as plain SQL both backends run: no type processing of 55,000 rows (half the time).
INDEX_ROWS_SQL = "SELECT code, COALESCE(short_name, name), parent_code, level, retired FROM area"


async def index_rows(*, session: AsyncSession) -> Sequence[Sequence[Any]]:
    """(code, shown name, parent code, level, retired) of every area, for the picker's index. Does not commit.

    `retired` is 0/1 on SQLite and a boolean on PostgreSQL: `AreaIndex.build` takes either.
    """
    result = await (await session.connection()).exec_driver_sql(INDEX_ROWS_SQL)
    return result.all()


async def subtree_rows(*, session: AsyncSession, code: str) -> list[tuple[str, str, str | None, int, bool]]:
    """`index_rows` of an area, its ancestors and all under it (a county's posters). Does not commit."""
    area = await session.get(Area, code)
    if area is None:
        return []
    ancestors = [code[: OWN_DIGITS[level]].ljust(CODE_LENGTHS[level], "0") for level in range(1, area.level)]
    shown = func.coalesce(col(Area.short_name), col(Area.name))
    query = select(Area.code, shown, Area.parent_code, Area.level, Area.retired).where(
        or_(col(Area.code).startswith(code[: OWN_DIGITS[area.level]]), col(Area.code).in_(ancestors))
    )
    return [(c, n, p, lv, bool(r)) for c, n, p, lv, r in (await session.exec(query)).all()]
