"""`outreach web link`: a one-time sign-in link to the county HR console."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli import common


def register(app: typer.Typer) -> None:
    """Add the `web` group to the root app."""
    group = typer.Typer(help="The web chat and the county HR console.")
    group.command("link")(link)
    app.add_typer(group, name="web")


def link(
    as_key: Annotated[
        str, typer.Option("--as", help="the staff member's key, e.g. tg:12345 or console:local")
    ],
) -> None:
    """Print a one-time sign-in link to the HR console (valid WEB_LINK_MINUTES, used once)."""
    from bot.cli.web import link_command

    settings, url = common.settings_and_db()
    raise typer.Exit(link_command(settings, url, as_key))
