"""The `outreach` command. Subcommands import what they need when they run, so that the
ones that do not talk to Telegram never pay for importing aiogram (~2.4 s, ~160 MB)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.settings import Settings, SettingsError, load_settings

app = typer.Typer(
    help="Village outreach bot: explains the 技能脱贫 policy and collects wishes.", no_args_is_help=False
)
db_app = typer.Typer(help="Database schema.")
app.add_typer(db_app, name="db")
areas_app = typer.Typer(help="The place hierarchy: province, city, county, township, village.")
app.add_typer(areas_app, name="areas")


def _settings() -> Settings:
    """Settings, or a one-line error and exit code 2."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # migrations at start-up are routine
    return settings


def _fail(exc: Exception) -> typer.Exit:
    """Print a one-line error and give the exit to raise."""
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2)


@app.command()
def run(
    webhook: Annotated[
        bool, typer.Option("--webhook", help="serve a webhook instead of long polling")
    ] = False,
) -> None:
    """Run the bot on Telegram; without BOT_TOKEN, open the console chat instead."""
    settings = _settings()
    if settings.bot_token is None:
        typer.echo("BOT_TOKEN is not set: starting the console chat (see README).", err=True)
        _chat(settings, "local", None)
        return
    from bot import app as telegram

    try:
        asyncio.run(telegram.run_webhook(settings) if webhook else telegram.run_polling(settings))
    except SettingsError as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt:
        pass


@app.command()
def chat(
    user: Annotated[str, typer.Option(help="console user name; each keeps its own conversation")] = "local",
    lang: Annotated[str | None, typer.Option(help="zh or en for a new conversation")] = None,
) -> None:
    """Talk to the bot in this terminal (or pipe a script into it), on the configured database."""
    _chat(_settings(), user, lang)


def _chat(settings: Settings, user: str, lang: str | None) -> None:
    """Run the console channel."""
    from bot.console import run_console

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_console(settings, user=user, lang=lang))


@app.command()
def eligibility(
    profile: Annotated[str, typer.Argument(help="PROFILE.json, or - for standard input")] = "-",
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD; default today")] = None,
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
    county: Annotated[str | None, typer.Option(help="county code, for amounts a county overrides")] = None,
) -> None:
    """Print, as JSON, which benefits a household profile qualifies for, with amounts and reasons."""
    from bot.cli_eligibility import run_eligibility

    raise typer.Exit(run_eligibility(profile, as_of=as_of, lang=lang, county=county))


@app.command()
def poster(
    village: Annotated[str, typer.Option(help="12-digit village code")],
    out: Annotated[Path, typer.Option(help="PNG file to write")],
    bot_username: Annotated[
        str | None, typer.Option(help="the bot's @username (default BOT_USERNAME)")
    ] = None,
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
) -> None:
    """Make the village's QR poster: scanning it opens the bot with the village chosen."""
    from bot.cli_poster import poster_command

    settings = _settings()
    username = bot_username or settings.bot_username
    raise typer.Exit(poster_command(_db_url(settings), village, out, username, lang))


@areas_app.command("import")
def areas_import(
    csv_file: Annotated[str, typer.Argument(help="CSV with code,name,parent_code,level")],
) -> None:
    """Load an official area list (upserts; all rows are checked before any is written)."""
    from bot.cli_areas import areas_import as run_import

    raise typer.Exit(run_import(_db_url(_settings()), csv_file))


@areas_app.command("list")
def areas_list(
    parent: Annotated[str | None, typer.Option(help="list the children of this code")] = None,
) -> None:
    """Print CODE<TAB>NAME for each child area (provinces when no parent is given)."""
    from bot.cli_areas import areas_list as run_list

    raise typer.Exit(run_list(_db_url(_settings()), parent))


def _db_url(settings: Settings) -> str:
    """The database URL, with the SQLite data directory created."""
    if settings.db_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings.db_url


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Bring the database schema up to date."""
    from storage import migrate

    settings = _settings()
    migrate.upgrade(_db_url(settings), revision)
    typer.echo(f"database at {migrate.current(settings.db_url)}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="target revision, e.g. base")]) -> None:
    """Take the database schema back to an earlier revision."""
    from storage import migrate

    settings = _settings()
    migrate.downgrade(settings.db_url, revision)
    typer.echo(f"database at {migrate.current(settings.db_url)}")


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    sys.exit(main())
