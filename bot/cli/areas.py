"""`outreach areas import FILE.csv[.gz]` and `outreach areas list [--parent CODE]`.

Plain functions returning exit codes, free of typer and aiogram so they start fast. Each
brings the schema up to date first.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

if TYPE_CHECKING:
    from storage.repositories.areas import ImportReport

EXIT_OK, EXIT_USAGE = 0, 2
T = TypeVar("T")


def areas_import(db_url: str, csv_path: str | Path) -> int:
    """Import an area CSV file (.csv or .csv.gz); print what changed; return the exit code.

    New codes are added, changed names renamed, codes of the file's provinces that it no longer
    holds retired. Progress goes to a terminal's stderr, never to a pipe.
    """
    from storage.repositories.areas import read_csv

    try:
        rows = read_csv(csv_path)
    except OSError as exc:
        return _fail(f"{csv_path}: cannot read: {exc.strerror}")
    except ValueError as exc:
        return _fail(str(exc))
    try:
        report = _run(db_url, lambda: _import(db_url, rows, progress_on_terminal(sys.stderr)))
    except ValueError as exc:
        return _fail(str(exc))
    print(f"{Path(csv_path).name}: {len(rows)} areas; {report}")
    return EXIT_OK


def progress_on_terminal(stream: TextIO, what: str = "areas written") -> Callable[[int, int], None] | None:
    """A callback printing `done/total` on one rewritten line of a terminal; None when piped."""
    if not stream.isatty():
        return None

    def show(done: int, total: int) -> None:
        stream.write(f"\r{what}: {done}/{total}" + ("\n" if done >= total else ""))
        stream.flush()

    return show


def areas_list(db_url: str, parent: str | None = None) -> int:
    """Print `CODE<TAB>NAME` for each area under `parent` (the provinces when None); return the exit code."""
    try:
        found = _read(db_url, lambda: _list(db_url, parent))
    except ValueError as exc:  # a malformed database URL
        return _fail(str(exc))
    if found is None:
        return _fail(f"no area with code {parent}")
    for code, name in found:
        print(f"{code}\t{name}")
    return EXIT_OK


def _run(db_url: str, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Upgrade the schema, then run the coroutine `make` gives on a fresh event loop."""
    from storage import migrate

    migrate.upgrade(db_url)
    return asyncio.run(make())


def _read(db_url: str, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a reading coroutine; upgrade the schema first only when the database is not set up.

    Reading a database that is set up then skips Alembic (about 0.3 s of imports and checks):
    `areas list` answers in well under half a second.
    """
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        return asyncio.run(make())
    except (OperationalError, ProgrammingError):  # no area table yet, or one from before 0008
        return _run(db_url, make)


async def _import(
    db_url: str, rows: list[dict[str, Any]], progress: Callable[[int, int], None] | None
) -> ImportReport:
    """Import the rows in one transaction."""
    from storage.db import Database
    from storage.repositories.areas import import_areas

    database = Database.from_url(db_url)
    try:
        async with database.session() as session:
            return await import_areas(session=session, rows=rows, progress=progress)
    finally:
        await database.dispose()


async def _list(db_url: str, parent: str | None) -> list[tuple[str, str]] | None:
    """(code, name) of the children of `parent`; None when there is no such area."""
    from storage.db import Database
    from storage.repositories.area_reads import child_names, has_imported_areas

    database = Database.from_url(db_url)
    try:
        async with database.session() as session:
            if not await has_imported_areas(session=session):
                from storage.repositories.areas import seed_csv_paths, seed_if_empty

                await seed_if_empty(session=session, csv_paths=seed_csv_paths())  # as the bot does at start
            return await child_names(session=session, parent_code=parent)
    finally:
        await database.dispose()


def _fail(message: str) -> int:
    """Print a one-line error on stderr and give the usage exit code."""
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_USAGE
