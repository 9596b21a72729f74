"""`outreach reconcile list|decide`: held entries (a household's entry that matched a family someone
else entered), and HR's decision on each."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli import common


def register(app: typer.Typer) -> None:
    """Add the `reconcile` group to the root app."""
    group = typer.Typer(help="Held entries: a household's entry that matched a family someone else entered.")
    group.command("list")(reconcile_list)
    group.command("decide")(reconcile_decide)
    app.add_typer(group, name="reconcile")


def reconcile_list(
    county: Annotated[str | None, typer.Option(help="only links with a side in this county")] = None,
) -> None:
    """Each held entry beside the household it matched, numbers masked."""
    from bot.cli.reconcile import reconcile_list as run

    settings, url = common.settings_and_db()
    raise typer.Exit(run(url, settings.cipher_secrets(), county=county))


def reconcile_decide(
    link: Annotated[int, typer.Argument(help="the link number `reconcile list` shows")],
    keep_stored: Annotated[bool, typer.Option("--keep-stored", help="delete the held entry")] = False,
    keep_both: Annotated[bool, typer.Option("--keep-both", help="two families: keep both")] = False,
) -> None:
    """Decide one held entry (audited): --keep-stored or --keep-both."""
    from bot.cli.reconcile import reconcile_decide as run

    if keep_stored == keep_both:
        raise common.usage("give exactly one of --keep-stored or --keep-both")
    url = common.settings_and_db()[1]
    raise typer.Exit(run(url, link, "keep_stored" if keep_stored else "keep_both"))
