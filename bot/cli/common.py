"""What every command module shares: settings with one-line errors, and the database URL made usable.

Light on purpose: the command modules import this at start-up, so it imports nothing heavy (no
aiogram, no ORM); `storage` helpers are imported inside the functions that need them.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer

from bot.cli.checks import CliError
from bot.core import logs
from bot.core.settings import Settings, SettingsError, load_settings

LOG_FILE = "outreach.log"  # in DATA_DIR: where `outreach chat` in a terminal writes its log lines


def settings(*, log_file: Path | None = None) -> Settings:
    """Settings, or a one-line error and exit code 2; log lines go to stderr (or `log_file`), never stdout."""
    try:
        loaded = load_settings()
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    handler: logging.Handler = logging.StreamHandler(sys.stderr)
    if log_file is not None:
        handler = logging.FileHandler(data_dir(loaded) / log_file.name, encoding="utf-8")
    logs.configure(loaded.log_level, handler)  # no personal data in the logs at any level
    return loaded


def fail(exc: Exception) -> typer.Exit:
    """Print a one-line error and give the exit to raise."""
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2)


def usage(message: str) -> typer.Exit:
    """A usage mistake the options themselves cannot express: one line, exit 2."""
    return fail(SettingsError(message))


def db_url(loaded: Settings) -> str:
    """The database URL, with the SQLite data directory created and the file private (0600)."""
    if loaded.db_url.startswith("sqlite") and not loaded.database_url:
        data_dir(loaded)
    if loaded.db_url.startswith("sqlite"):
        from storage.files import private_database
        from storage.urls import parse_url

        folder = Path(parse_url(loaded.db_url).sqlite_path or ".").parent
        if not folder.is_dir():  # checked here: SQLite's driver thread would add a traceback of its own
            raise fail(
                OSError(f"cannot open the database (DATABASE_URL): unable to open {folder}: no such folder")
            )
        private_database(loaded.db_url)  # 0600 before anything opens it
    return loaded.db_url


def settings_and_db() -> tuple[Settings, str]:
    """The settings and the usable database URL: what most commands start with."""
    loaded = settings()
    return loaded, db_url(loaded)


def data_dir(loaded: Settings) -> Path:
    """DATA_DIR, created when missing (0700: it holds the database); a one-line error when it cannot be."""
    from storage.files import private_dir

    try:
        private_dir(loaded.data_dir)
    except OSError as exc:
        raise CliError(f"setting DATA_DIR: cannot create {loaded.data_dir}: {exc.strerror}") from None
    return loaded.data_dir
