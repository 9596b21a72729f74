"""`outreach db upgrade|downgrade`: the schema, through Alembic."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli import common


def register(app: typer.Typer) -> None:
    """Add the `db` group to the root app."""
    group = typer.Typer(help="Database schema.")
    group.command("upgrade")(upgrade)
    group.command("downgrade")(downgrade)
    app.add_typer(group, name="db")


def upgrade(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Bring the database schema up to date."""
    from storage import migrate

    settings, url = common.settings_and_db()
    migrate.upgrade(url, revision)
    typer.echo(f"database at {migrate.current(settings.db_url)}")


def downgrade(revision: Annotated[str, typer.Argument(help="target revision, e.g. base")]) -> None:
    """Take the database schema back to an earlier revision."""
    from storage import migrate

    settings, url = common.settings_and_db()
    migrate.downgrade(url, revision)
    typer.echo(f"database at {migrate.current(settings.db_url)}")
