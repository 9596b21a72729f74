"""Checks every CLI command shares, and the one line an error gets instead of a traceback.

A command checks its arguments before it changes anything (an invitation is not created when its
QR file cannot be written); `CliError` carries the one line. Errors from below (a database that
cannot be opened or reached, an unknown migration revision, a file that cannot be written) are
turned into one line by `explain` at the entry point.
"""

from __future__ import annotations

import asyncio
import errno
from pathlib import Path

EXIT_USAGE, EXIT_FAILURE = 2, 1
LANGUAGES = {"zh": "zh_Hans", "zh_hans": "zh_Hans", "zh-hans": "zh_Hans", "zh-cn": "zh_Hans", "en": "en"}
LEVEL_NAMES = {1: "province", 2: "city", 3: "county", 4: "township", 5: "village"}


class CliError(Exception):
    """A command cannot run as asked; the message is the one line to print."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(" ".join(message.split()))
        self.exit_code = exit_code


# ---------------------------------------------------------------- arguments


def language(value: str, option: str = "--lang") -> str:
    """zh or en as a catalog language; any other value is refused, the same way everywhere."""
    found = LANGUAGES.get(value.strip().lower())
    if found is None:
        raise CliError(f"{option}: expected zh or en, got {value!r}")
    return found


def output_file(path: Path, option: str = "--out") -> Path:
    """A file the command may write: its folder exists, and it is not itself a folder."""
    if path.is_dir():
        raise CliError(f"{option} {path}: is a folder; give a file name inside it")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise CliError(f"{option} {path}: the folder {folder} does not exist")
    return path


def telegram_user_id(value: int, option: str = "--telegram-id") -> int:
    """A Telegram user id: a positive number (chats of groups are negative, users never)."""
    if value <= 0:
        raise CliError(
            f"{option} {value}: a Telegram user id is a positive number (ask the person for theirs)"
        )
    return value


def area(db_url: str, code: str, level: str, option: str | None = None) -> str:
    """An area code that exists in the area table at `level`; else a CliError saying what it is."""
    option = option or f"--{level}"
    found = asyncio.run(_lookup(db_url, code.strip()))
    if found is None:
        raise CliError(f"{option} {code}: no such area in the area table (see `outreach areas list`)")
    name, found_level = found
    if LEVEL_NAMES.get(found_level) != level:
        kind = LEVEL_NAMES.get(found_level, "area")
        raise CliError(
            f"{option} {code} is {name}, a {kind}; give a {level} code (see `outreach areas list`)"
        )
    return code.strip()


async def _lookup(db_url: str, code: str) -> tuple[str, int] | None:
    """(name, level) of an area code, the shipped areas loaded first into an empty table."""
    from storage import migrate
    from storage.db import Database
    from storage.repositories.areas import get_area, seed_if_empty, shipped_csv_paths

    await asyncio.to_thread(migrate.upgrade, db_url)
    database = Database.from_url(db_url)
    try:
        async with database.session() as session:
            await seed_if_empty(session=session, csv_paths=shipped_csv_paths())
            await session.commit()
            found = await get_area(session=session, code=code)
    finally:
        await database.dispose()
    return (found.name, int(found.level)) if found is not None else None


# ---------------------------------------------------------------- errors from below


def explain(exc: BaseException) -> str | None:
    """One line for an error a user can fix (database, migration, file), or None for a real bug."""
    for explainer in (_alembic, _database, _file):
        message = explainer(exc)
        if message is not None:
            return " ".join(message.split())
    return None


def _alembic(exc: BaseException) -> str | None:
    """An unknown migration revision ("db upgrade 9999")."""
    if type(exc).__module__.startswith("alembic") and type(exc).__name__ == "CommandError":
        return f"database migration: {exc} (see `outreach db upgrade head`)"
    return None


def _database(exc: BaseException) -> str | None:
    """A database that cannot be opened (SQLite) or reached (PostgreSQL)."""
    module = type(exc).__module__
    if module.startswith("sqlalchemy") and type(exc).__name__ in ("OperationalError", "InterfaceError"):
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return f"cannot open the database (DATABASE_URL / DATA_DIR): {reason}"
    if isinstance(exc, ConnectionError | TimeoutError) or module.startswith("asyncpg"):
        return f"cannot reach the database (DATABASE_URL): {exc.__class__.__name__}: {exc}"
    if isinstance(exc, OSError) and exc.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH):
        return f"cannot reach the database (DATABASE_URL): {exc.strerror}"
    return None


def _file(exc: BaseException) -> str | None:
    """A file or folder that cannot be read or written."""
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    return None
