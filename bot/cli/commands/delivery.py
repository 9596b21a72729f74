"""`outreach deliver` and `outreach hr add|list|remove`: the county HR offices' digests and their chats."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli import checks, common

TO_HELP = "the chat's key: tg:<chat id>, wecom:<UserID>, wecom:group:<chatid>"
CHAT_HELP = "Telegram shorthand for --to tg:<chat id> (groups are negative: --chat=-100...)"
COUNTY_HELP = "6-digit county code"


def register(app: typer.Typer) -> None:
    """Add `deliver` and the `hr` group to the root app."""
    app.command("deliver")(deliver)
    group = typer.Typer(
        help="Which chats (Telegram, WeCom, ...) receive each county's digests (county HR offices)."
    )
    group.command("add")(hr_add)
    group.command("list")(hr_list)
    group.command("remove")(hr_remove)
    app.add_typer(group, name="hr")


def deliver(
    once: Annotated[bool, typer.Option("--once", help="send everything that waits, then exit")] = False,
) -> None:
    """Send the county HR offices their digests until stopped: on Telegram (BOT_TOKEN) and/or the WeCom app
    (its WECOM_* settings), whichever are configured."""
    from bot.cli.delivery import deliver as run

    settings, url = common.settings_and_db()
    raise typer.Exit(run(settings, url, once=once))


def hr_add(
    county: Annotated[str, typer.Option(help=COUNTY_HELP)],
    to: Annotated[str | None, typer.Option("--to", help=TO_HELP)] = None,
    chat: Annotated[str | None, typer.Option(help=CHAT_HELP)] = None,
) -> None:
    """Send a county's digests to a chat (also re-enables a removed or broken one)."""
    from bot.cli.delivery import hr_add as run

    raise typer.Exit(run(*_county_and_chat(county, to, chat)))


def hr_list(
    all_rows: Annotated[bool, typer.Option("--all", help="include removed chats")] = False,
) -> None:
    """Print the HR chats, tab-separated, with waiting and delivered counts."""
    from bot.cli.delivery import hr_list as run

    raise typer.Exit(run(common.settings_and_db()[1], all_rows=all_rows))


def hr_remove(
    county: Annotated[str, typer.Option(help=COUNTY_HELP)],
    to: Annotated[str | None, typer.Option("--to", help=TO_HELP)] = None,
    chat: Annotated[str | None, typer.Option(help=CHAT_HELP)] = None,
) -> None:
    """Stop sending a county's digests to a chat."""
    from bot.cli.delivery import hr_remove as run

    raise typer.Exit(run(*_county_and_chat(county, to, chat)))


def _county_and_chat(county: str, to: str | None, chat: str | None) -> tuple[str, str, str | None]:
    """The database URL, the checked county code and the chat (`--to`, else Telegram's `--chat`)."""
    url = common.settings_and_db()[1]
    return url, checks.area(url, county, "county"), to if to is not None else chat
