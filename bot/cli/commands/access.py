"""Who may do what: `outreach admin add`, `invite` (and `invite revoke`), `users`, `revoke`, `audit`,
`erase`, `purge` and `keys rotate`. Every change is audited by the implementation in `bot/cli/access.py`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli import checks, common

PERSON_KEY_HELP = "the person's key on another channel: wecom:<UserID>, ... (instead of --telegram-id)"
TELEGRAM_ID_HELP = "the person's Telegram user id"


def register(app: typer.Typer) -> None:
    """Add the access commands and the `admin`, `invite` and `keys` groups to the root app."""
    admin = typer.Typer(help="Administrators.")
    admin.command("add")(admin_add)
    app.add_typer(admin, name="admin")
    invitations = typer.Typer(
        help="One-time invitations: `invite --role worker --village CODE`, `invite revoke CODE`.",
        invoke_without_command=True,
    )
    invitations.callback()(invite)
    invitations.command("revoke")(invite_revoke)
    app.add_typer(invitations, name="invite")
    for name, command in (("users", users), ("revoke", revoke), ("audit", audit), ("erase", erase)):
        app.command(name)(command)
    app.command("purge")(purge)
    keys = typer.Typer(help="The DATA_KEY secrets that encrypt personal numbers.")
    keys.command("rotate")(keys_rotate)
    app.add_typer(keys, name="keys")


def _one_area(**codes: str | None) -> tuple[str, str]:
    """The one (level, code) given among the area options, or a one-line error."""
    given = [(level, code) for level, code in codes.items() if code]
    if len(given) != 1:
        raise common.usage(f"give exactly one of --{', --'.join(codes)}")
    return given[0]


def _person(telegram_id: int | None, key: str | None) -> int | str:
    """--telegram-id (checked) or --key: exactly one."""
    if (telegram_id is None) == (key is None):
        raise common.usage("give --telegram-id ID or --key KEY")
    return checks.telegram_user_id(telegram_id) if telegram_id is not None else str(key)


def admin_add(
    telegram_id: Annotated[int | None, typer.Option("--telegram-id", help=TELEGRAM_ID_HELP)] = None,
    key: Annotated[str | None, typer.Option("--key", help=PERSON_KEY_HELP)] = None,
    province: Annotated[str | None, typer.Option(help="6-digit province code (default 410000)")] = None,
    city: Annotated[str | None, typer.Option(help="6-digit city code")] = None,
) -> None:
    """Make a person (Telegram, or any channel by key) an administrator of a province or a city."""
    from bot.cli.access import admin_add as run

    who = _person(telegram_id, key)
    level, code = _one_area(province=province, city=city) if province or city else ("province", "410000")
    url = common.settings_and_db()[1]
    raise typer.Exit(run(url, who, level, checks.area(url, code, level)))


def invite(
    ctx: typer.Context,
    role: Annotated[str | None, typer.Option(help="worker, hr or admin")] = None,
    village: Annotated[str | None, typer.Option(help="12-digit village code (worker)")] = None,
    township: Annotated[str | None, typer.Option(help="9-digit township code (worker)")] = None,
    county: Annotated[str | None, typer.Option(help="6-digit county code (hr)")] = None,
    city: Annotated[str | None, typer.Option(help="6-digit city code (admin)")] = None,
    province: Annotated[str | None, typer.Option(help="6-digit province code (admin)")] = None,
    expires: Annotated[str, typer.Option(help="how long it stays valid: 30m, 12h, 7d, 2w")] = "7d",
    qr: Annotated[Path | None, typer.Option(help="write the link's QR code to this PNG file")] = None,
    bot_username: Annotated[
        str | None, typer.Option(help="the bot's @username (default BOT_USERNAME)")
    ] = None,
) -> None:
    """Create a one-time invitation for a role and an area; print its code and deep link."""
    if ctx.invoked_subcommand is not None:
        return
    from bot.cli.access import invite as run

    if role is None:
        raise common.usage("--role is needed (worker, hr or admin)")
    areas = {"village": village, "township": township, "county": county, "city": city, "province": province}
    level, code = _one_area(**areas)
    if qr is not None:
        checks.output_file(qr, "--qr")  # before the invitation is created
    settings, url = common.settings_and_db()
    username = bot_username or settings.bot_username
    raise typer.Exit(run(url, role, level, checks.area(url, code, level), expires, username, qr))


def invite_revoke(code: Annotated[str, typer.Argument(help="the invitation code")]) -> None:
    """Revoke an unused invitation."""
    from bot.cli.access import invite_revoke as run

    raise typer.Exit(run(common.settings_and_db()[1], code))


def users() -> None:
    """Print everyone with a role (TSV): Telegram id, key, role, scopes."""
    from bot.cli.access import users as run

    raise typer.Exit(run(common.settings_and_db()[1]))


def revoke(
    telegram_id: Annotated[int | None, typer.Option("--telegram-id", help=TELEGRAM_ID_HELP)] = None,
    key: Annotated[str | None, typer.Option("--key", help=PERSON_KEY_HELP)] = None,
) -> None:
    """Take a user's role and scopes away at once and end their open dialog."""
    from bot.cli.access import revoke as run

    raise typer.Exit(run(common.settings_and_db()[1], _person(telegram_id, key)))


def audit(
    since: Annotated[str | None, typer.Option(help="YYYY-MM-DD or ISO date-time (UTC)")] = None,
    user: Annotated[str | None, typer.Option(help="Telegram user id or channel key")] = None,
) -> None:
    """Print the audit log (TSV), oldest first."""
    from bot.cli.access import audit_log as run

    raise typer.Exit(run(common.settings_and_db()[1], since, user))


def erase(
    person: Annotated[str | None, typer.Option(help="resident ID number of the person")] = None,
    household: Annotated[str | None, typer.Option(help="household number")] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="erase without asking (after showing what goes)")
    ] = False,
) -> None:
    """Erase a person's or a household's data everywhere (PIPL): shows what goes, asks, counts; audited."""
    from bot.cli.access import erase as run

    settings, url = common.settings_and_db()
    raise typer.Exit(run(url, settings.cipher_secrets(), person=person, household=household, yes=yes))


def purge(
    draft_days: Annotated[int | None, typer.Option(help="default DRAFT_EXPIRY_DAYS")] = None,
    closed_days: Annotated[int | None, typer.Option(help="default CLOSED_RETENTION_DAYS")] = None,
) -> None:
    """Remove expired drafts and closed records past their retention period."""
    from bot.cli.access import purge as run

    settings, url = common.settings_and_db()
    drafts = draft_days if draft_days is not None else settings.draft_expiry_days
    closed = closed_days if closed_days is not None else settings.closed_retention_days
    raise typer.Exit(run(url, drafts, closed))


def keys_rotate() -> None:
    """Re-encrypt every personal number under the first DATA_KEY secret (audited)."""
    from bot.cli.access import keys_rotate as run

    settings, url = common.settings_and_db()
    raise typer.Exit(run(url, settings.cipher_secrets()))
