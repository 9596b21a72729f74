"""`outreach areas import|list`: the place hierarchy, province to village."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli import common


def register(app: typer.Typer) -> None:
    """Add the `areas` group to the root app."""
    group = typer.Typer(help="The place hierarchy: province, city, county, township, village.")
    group.command("import")(areas_import)
    group.command("list")(areas_list)
    app.add_typer(group, name="areas")


def areas_import(
    csv_file: Annotated[str, typer.Argument(help="CSV (or .csv.gz) with code,name,parent_code,level")],
) -> None:
    """Load an official area list: adds, renames, retires what it no longer has; prints the counts."""
    from bot.cli.areas import areas_import as run

    raise typer.Exit(run(common.settings_and_db()[1], csv_file))


def areas_list(
    parent: Annotated[str | None, typer.Option(help="list the children of this code")] = None,
) -> None:
    """Print CODE<TAB>NAME for each offered child area (provinces when no parent is given)."""
    from bot.cli.areas import areas_list as run

    raise typer.Exit(run(common.settings_and_db()[1], parent))
