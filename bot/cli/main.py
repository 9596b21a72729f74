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

from bot.cli import checks
from bot.cli.checks import CliError
from bot.core import logs
from bot.core.settings import Settings, SettingsError, load_settings
from content.errors import ContentError

app = typer.Typer(
    help="Village outreach bot: explains the 技能脱贫 policy and collects wishes.",
    no_args_is_help=False,
    pretty_exceptions_enable=False,  # main() turns errors into one line; a real bug keeps its plain traceback
)
LOG_FILE = "outreach.log"  # in DATA_DIR: where `outreach chat` in a terminal writes its log lines
db_app = typer.Typer(help="Database schema.")
app.add_typer(db_app, name="db")
areas_app = typer.Typer(help="The place hierarchy: province, city, county, township, village.")
app.add_typer(areas_app, name="areas")
web_app = typer.Typer(help="The web chat and the county HR console.")
app.add_typer(web_app, name="web")
hr_app = typer.Typer(
    help="Which chats (Telegram, WeCom, ...) receive each county's digests (county HR offices)."
)
app.add_typer(hr_app, name="hr")


def _settings(*, log_file: Path | None = None) -> Settings:
    """Settings, or a one-line error and exit code 2; log lines go to stderr (or `log_file`), never stdout."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    handler: logging.Handler = logging.StreamHandler(sys.stderr)
    if log_file is not None:
        handler = logging.FileHandler(_data_dir(settings) / log_file.name, encoding="utf-8")
    logs.configure(settings.log_level, handler)  # no personal data in the logs at any level
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
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="webhook worker processes (more than 1 needs PostgreSQL)")
    ] = 1,
) -> None:
    """Serve every configured channel: the web chat and HR console always, Telegram when BOT_TOKEN is set."""
    from bot.cli.run import run_command

    settings = _settings()
    if workers > 1 and not webhook:
        raise _fail(SettingsError("--workers needs --webhook (long polling is one process)"))
    from bot.features.delivery.config import load_delivery_config

    load_delivery_config(settings)  # a malformed DIGEST_* setting stops start-up, not the first digest
    if settings.bot_token is None and webhook:
        raise _fail(
            SettingsError("setting BOT_TOKEN: needed for --webhook (without it, use `outreach chat`)")
        )
    _db_url(settings)  # DATA_DIR (and the SQLite file's folder) usable before anything starts
    try:
        raise typer.Exit(run_command(settings, webhook=webhook, workers=workers))
    except (SettingsError, ContentError) as exc:
        raise _fail(exc) from None


@web_app.command("link")
def web_link(
    as_key: Annotated[
        str, typer.Option("--as", help="the staff member's key, e.g. tg:12345 or console:local")
    ],
) -> None:
    """Print a one-time sign-in link to the HR console (valid WEB_LINK_MINUTES, used once)."""
    from bot.cli.web import link_command

    settings = _settings()
    raise typer.Exit(link_command(settings, _db_url(settings), as_key))


@app.command()
def chat(
    user: Annotated[str, typer.Option(help="console user name; each keeps its own conversation")] = "local",
    lang: Annotated[str | None, typer.Option(help="zh or en for a new conversation")] = None,
) -> None:
    """Talk to the bot in this terminal (or pipe a script into it), on the configured database.

    In a terminal, log lines go to DATA_DIR/outreach.log so that they never break into the conversation.
    """
    if lang is not None:
        checks.language(lang)
    settings = _settings(log_file=Path(LOG_FILE) if sys.stdin.isatty() else None)
    _db_url(settings)
    _chat(settings, user, lang)


def _chat(settings: Settings, user: str, lang: str | None) -> None:
    """Run the console channel."""
    from bot.channels.console.chat import run_console

    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_console(settings, user=user, lang=lang))
    except ContentError as exc:  # a broken content file: name it in one line, do not start
        raise _fail(exc) from None


@app.command()
def eligibility(
    profile: Annotated[str, typer.Argument(help="PROFILE.json, or - for standard input")] = "-",
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD; default today")] = None,
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
    county: Annotated[str | None, typer.Option(help="county code, for amounts a county overrides")] = None,
) -> None:
    """Print, as JSON, which benefits a household profile qualifies for, with amounts and reasons.

    The profile is one JSON object with up to three sections; every fact may be left out (unknown),
    and then the benefits that depend on it come back with "eligible": null and the fact in "missing".
    A benefit with "eligible": false carries no amount.

    \b
    {"household": {"registered_poor": true,        建档立卡 (a 脱贫户 counts too)
                   "rural": true},                 rural household registration
     "person":    {"age": 16,                      0 to 120
                   "able_to_work": true,
                   "household_child": true,        a child (子女) of the household, for 四（三）
                   "education": "junior_high_graduate",
                                 (junior_high_graduate, senior_high_graduate, in_school, other)
                   "continued_study": false,       went on to senior high school or university
                   "graduation_year": 2026},       1950 to this year
     "plan":      {"kind": "technical_school",
                   (technical_school, vocational_training, short_training, training = not sure which,
                    apprenticeship, entrepreneurship)
                   "school_type": "technical_school",   (technical_school, vocational_high, other)
                   "full_time": true, "formal_enrollment": true,
                   "study_year": 1,                1 to 6
                   "employed_at_pilot_firm": false,
                   "has_business_project": false}}

    \b
    Example:  echo '{"person": {"age": 16}, "plan": {"kind": "technical_school"}}' | outreach eligibility -
    """
    from bot.cli.eligibility import run_eligibility

    checks.language(lang)
    if county is not None:
        county = checks.area(_db_url(_settings()), county, "county")
    raise typer.Exit(run_eligibility(profile, as_of=as_of, lang=lang, county=county))


@app.command()
def poster(
    out: Annotated[Path, typer.Option(help="PDF file to write (A4, one page per village)")],
    village: Annotated[str | None, typer.Option(help="one village (12 digits)")] = None,
    township: Annotated[str | None, typer.Option(help="every village of a township (9 digits)")] = None,
    county: Annotated[str | None, typer.Option(help="every village of a county (6 digits)")] = None,
    channel: Annotated[
        str | None, typer.Option(help="telegram, wecom or web (default: the configured one)")
    ] = None,
    bot_username: Annotated[
        str | None, typer.Option(help="the bot's @username (default BOT_USERNAME)")
    ] = None,
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
) -> None:
    """Print-ready QR posters: scanning a village's page opens the bot with the village chosen."""
    from bot.cli.poster import PosterRequest, poster_command

    checks.language(lang)
    checks.output_file(out)
    settings = _settings()
    request = PosterRequest(
        out=out,
        areas={"village": village, "township": township, "county": county},
        channel=channel or _poster_channel(settings),
        options={
            "bot_username": bot_username or settings.bot_username,
            "wecom_kf_link": settings.wecom_kf_link,
            "web_url": settings.web_base_url,
        },
        lang=lang,
    )
    raise typer.Exit(poster_command(_db_url(settings), request))


def _poster_channel(settings: Settings) -> str:
    """The channel a county's posters lead to: WeCom's 客服 when its link is set and Telegram is not;
    the web chat when neither runs but WEB_BASE_URL is set; else Telegram."""
    if settings.wecom_kf_link and not settings.bot_token:
        return "wecom"
    return "web" if settings.web_base_url and not settings.bot_token else "telegram"


@areas_app.command("import")
def areas_import(
    csv_file: Annotated[str, typer.Argument(help="CSV (or .csv.gz) with code,name,parent_code,level")],
) -> None:
    """Load an official area list: adds, renames, retires what it no longer has; prints the counts."""
    from bot.cli.areas import areas_import as run_import

    raise typer.Exit(run_import(_db_url(_settings()), csv_file))


@areas_app.command("list")
def areas_list(
    parent: Annotated[str | None, typer.Option(help="list the children of this code")] = None,
) -> None:
    """Print CODE<TAB>NAME for each offered child area (provinces when no parent is given)."""
    from bot.cli.areas import areas_list as run_list

    raise typer.Exit(run_list(_db_url(_settings()), parent))


@app.command()
def deliver(
    once: Annotated[bool, typer.Option("--once", help="send everything that waits, then exit")] = False,
) -> None:
    """Send the county HR offices their digests until stopped (needs BOT_TOKEN)."""
    from bot.cli.delivery import deliver as run_deliver

    settings = _settings()
    raise typer.Exit(run_deliver(settings, _db_url(settings), once=once))


TO_HELP = "the chat's key: tg:<chat id>, wecom:<UserID>, wecom:group:<chatid>"
CHAT_HELP = "Telegram shorthand for --to tg:<chat id> (groups are negative: --chat=-100...)"


@hr_app.command("add")
def hr_add(
    county: Annotated[str, typer.Option(help="6-digit county code")],
    to: Annotated[str | None, typer.Option("--to", help=TO_HELP)] = None,
    chat: Annotated[str | None, typer.Option(help=CHAT_HELP)] = None,
) -> None:
    """Send a county's digests to a chat (also re-enables a removed or broken one)."""
    from bot.cli.delivery import hr_add as run_add

    url = _db_url(_settings())
    raise typer.Exit(run_add(url, checks.area(url, county, "county"), to if to is not None else chat))


@hr_app.command("list")
def hr_list(
    all_rows: Annotated[bool, typer.Option("--all", help="include removed chats")] = False,
) -> None:
    """Print the HR chats, tab-separated, with waiting and delivered counts."""
    from bot.cli.delivery import hr_list as run_list

    raise typer.Exit(run_list(_db_url(_settings()), all_rows=all_rows))


@hr_app.command("remove")
def hr_remove(
    county: Annotated[str, typer.Option(help="6-digit county code")],
    to: Annotated[str | None, typer.Option("--to", help=TO_HELP)] = None,
    chat: Annotated[str | None, typer.Option(help=CHAT_HELP)] = None,
) -> None:
    """Stop sending a county's digests to a chat."""
    from bot.cli.delivery import hr_remove as run_remove

    url = _db_url(_settings())
    raise typer.Exit(run_remove(url, checks.area(url, county, "county"), to if to is not None else chat))


def _db_url(settings: Settings) -> str:
    """The database URL, with the SQLite data directory created."""
    if settings.db_url.startswith("sqlite") and not settings.database_url:
        _data_dir(settings)
    if settings.db_url.startswith("sqlite"):
        from storage.files import private_database
        from storage.urls import parse_url

        folder = Path(parse_url(settings.db_url).sqlite_path or ".").parent
        if not folder.is_dir():  # checked here: SQLite's driver thread would add a traceback of its own
            raise _fail(
                OSError(f"cannot open the database (DATABASE_URL): unable to open {folder}: no such folder")
            )
        private_database(settings.db_url)  # 0600 before anything opens it
    return settings.db_url


def _data_dir(settings: Settings) -> Path:
    """DATA_DIR, created when missing (0700: it holds the database); a one-line error when it cannot be."""
    from storage.files import private_dir

    try:
        private_dir(settings.data_dir)
    except OSError as exc:
        raise CliError(f"setting DATA_DIR: cannot create {settings.data_dir}: {exc.strerror}") from None
    return settings.data_dir


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
    migrate.downgrade(_db_url(settings), revision)
    typer.echo(f"database at {migrate.current(settings.db_url)}")


# ---------------------------------------------------------------- access (bot/cli_access.py)

admin_app = typer.Typer(help="Administrators.")
app.add_typer(admin_app, name="admin")
invite_app = typer.Typer(
    help="One-time invitations: `invite --role worker --village CODE`, `invite revoke CODE`.",
    invoke_without_command=True,
)
app.add_typer(invite_app, name="invite")
keys_app = typer.Typer(help="The DATA_KEY secrets that encrypt personal numbers.")
app.add_typer(keys_app, name="keys")


def _one_area(**codes: str | None) -> tuple[str, str]:
    """The one (level, code) given among the area options, or a one-line error."""
    given = [(level, code) for level, code in codes.items() if code]
    if len(given) != 1:
        typer.echo(f"error: give exactly one of --{', --'.join(codes)}", err=True)
        raise typer.Exit(2)
    return given[0]


PERSON_KEY_HELP = "the person's key on another channel: wecom:<UserID>, ... (instead of --telegram-id)"


def _person(telegram_id: int | None, key: str | None) -> int | str:
    """--telegram-id (checked) or --key: exactly one."""
    if (telegram_id is None) == (key is None):
        typer.echo("error: give --telegram-id ID or --key KEY", err=True)
        raise typer.Exit(2)
    return checks.telegram_user_id(telegram_id) if telegram_id is not None else str(key)


@admin_app.command("add")
def admin_add(
    telegram_id: Annotated[
        int | None, typer.Option("--telegram-id", help="the person's Telegram user id")
    ] = None,
    key: Annotated[str | None, typer.Option("--key", help=PERSON_KEY_HELP)] = None,
    province: Annotated[str | None, typer.Option(help="6-digit province code (default 410000)")] = None,
    city: Annotated[str | None, typer.Option(help="6-digit city code")] = None,
) -> None:
    """Make a person (Telegram, or any channel by key) an administrator of a province or a city."""
    from bot.cli.access import admin_add as run

    who = _person(telegram_id, key)
    level, code = _one_area(province=province, city=city) if province or city else ("province", "410000")
    url = _db_url(_settings())
    raise typer.Exit(run(url, who, level, checks.area(url, code, level)))


@invite_app.callback()
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
        typer.echo("error: --role is needed (worker, hr or admin)", err=True)
        raise typer.Exit(2)
    areas = {"village": village, "township": township, "county": county, "city": city, "province": province}
    level, code = _one_area(**areas)
    if qr is not None:
        checks.output_file(qr, "--qr")  # before the invitation is created
    settings = _settings()
    username = bot_username or settings.bot_username
    url = _db_url(settings)
    raise typer.Exit(run(url, role, level, checks.area(url, code, level), expires, username, qr))


@invite_app.command("revoke")
def invite_revoke(code: Annotated[str, typer.Argument(help="the invitation code")]) -> None:
    """Revoke an unused invitation."""
    from bot.cli.access import invite_revoke as run

    raise typer.Exit(run(_db_url(_settings()), code))


@app.command("users")
def access_users() -> None:
    """Print everyone with a role (TSV): Telegram id, key, role, scopes."""
    from bot.cli.access import users as run

    raise typer.Exit(run(_db_url(_settings())))


@app.command("revoke")
def access_revoke(
    telegram_id: Annotated[
        int | None, typer.Option("--telegram-id", help="the person's Telegram user id")
    ] = None,
    key: Annotated[str | None, typer.Option("--key", help=PERSON_KEY_HELP)] = None,
) -> None:
    """Take a user's role and scopes away at once and end their open dialog."""
    from bot.cli.access import revoke as run

    raise typer.Exit(run(_db_url(_settings()), _person(telegram_id, key)))


@app.command("audit")
def access_audit(
    since: Annotated[str | None, typer.Option(help="YYYY-MM-DD or ISO date-time (UTC)")] = None,
    user: Annotated[str | None, typer.Option(help="Telegram user id or channel key")] = None,
) -> None:
    """Print the audit log (TSV), oldest first."""
    from bot.cli.access import audit_log as run

    raise typer.Exit(run(_db_url(_settings()), since, user))


@app.command("erase")
def access_erase(
    person: Annotated[str | None, typer.Option(help="resident ID number of the person")] = None,
    household: Annotated[str | None, typer.Option(help="household number")] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="erase without asking (after showing what goes)")
    ] = False,
) -> None:
    """Erase a person's or a household's data everywhere (PIPL): shows what goes, asks, counts; audited."""
    from bot.cli.access import erase as run

    settings = _settings()
    raise typer.Exit(
        run(_db_url(settings), settings.cipher_secrets(), person=person, household=household, yes=yes)
    )


@app.command("purge")
def access_purge(
    draft_days: Annotated[int | None, typer.Option(help="default DRAFT_EXPIRY_DAYS")] = None,
    closed_days: Annotated[int | None, typer.Option(help="default CLOSED_RETENTION_DAYS")] = None,
) -> None:
    """Remove expired drafts and closed records past their retention period."""
    from bot.cli.access import purge as run

    settings = _settings()
    drafts = draft_days if draft_days is not None else settings.draft_expiry_days
    closed = closed_days if closed_days is not None else settings.closed_retention_days
    raise typer.Exit(run(_db_url(settings), drafts, closed))


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every personal number under the first DATA_KEY secret (audited)."""
    from bot.cli.access import keys_rotate as run

    settings = _settings()
    raise typer.Exit(run(_db_url(settings), settings.cipher_secrets()))


# ---------------------------------------------------------------- county HR: exports, reports, demo data

reconcile_app = typer.Typer(
    help="Held entries: a household's entry that matched a family someone else entered."
)
app.add_typer(reconcile_app, name="reconcile")


@reconcile_app.command("list")
def reconcile_list(
    county: Annotated[str | None, typer.Option(help="only links with a side in this county")] = None,
) -> None:
    """Each held entry beside the household it matched, numbers masked."""
    from bot.cli.reconcile import reconcile_list as run

    settings = _settings()
    raise typer.Exit(run(_db_url(settings), settings.cipher_secrets(), county=county))


@reconcile_app.command("decide")
def reconcile_decide(
    link: Annotated[int, typer.Argument(help="the link number `reconcile list` shows")],
    keep_stored: Annotated[bool, typer.Option("--keep-stored", help="delete the held entry")] = False,
    keep_both: Annotated[bool, typer.Option("--keep-both", help="two families: keep both")] = False,
) -> None:
    """Decide one held entry (audited): --keep-stored or --keep-both."""
    from bot.cli.reconcile import reconcile_decide as run

    if keep_stored == keep_both:
        raise _fail(SettingsError("give exactly one of --keep-stored or --keep-both"))
    settings = _settings()
    raise typer.Exit(run(_db_url(settings), link, "keep_stored" if keep_stored else "keep_both"))


report_app = typer.Typer(help="Reports county HR offices send on.")
app.add_typer(report_app, name="report")
demo_app = typer.Typer(help="Synthetic data for demonstrations and benchmarks.")
app.add_typer(demo_app, name="demo")


@app.command("export")
def hr_export(
    county: Annotated[str, typer.Option(help="6-digit county code")],
    out: Annotated[Path, typer.Option(help="file to write")],
    fmt: Annotated[str, typer.Option("--format", help="xlsx or csv (UTF-8 with BOM)")] = "xlsx",
    since: Annotated[str | None, typer.Option(help="only records registered on or after YYYY-MM-DD")] = None,
    unmasked: Annotated[bool, typer.Option("--unmasked", help="full ID and phone numbers (admins)")] = False,
    as_telegram_id: Annotated[
        int | None, typer.Option("--as-telegram-id", help="your Telegram id; --unmasked needs an admin's")
    ] = None,
    lang: Annotated[str, typer.Option(help="zh or en headers and labels")] = "zh",
    workers: Annotated[int | None, typer.Option(help="processes for a large CSV (default: CPUs)")] = None,
) -> None:
    """Export a county's wishes for Excel (XLSX, or CSV in UTF-8 with BOM); ID and phone numbers masked unless
    an admin asks for --unmasked, which is audited."""
    from bot.cli.hr import export_command

    language = checks.language(lang)
    checks.output_file(out)
    settings = _settings()
    url = _db_url(settings)
    county = checks.area(url, county, "county")
    raise typer.Exit(
        export_command(
            url, county=county, fmt=fmt, out=out, since=since, unmasked=unmasked,
            as_telegram_id=as_telegram_id, cipher_secrets=settings.cipher_secrets, lang=language,
            workers=workers,
        )
    )  # fmt: skip


@report_app.command("progress")
def report_progress(
    year: Annotated[int, typer.Option(help="the year, e.g. 2026")],
    out: Annotated[Path, typer.Option(help="XLSX file to write")],
    county: Annotated[str | None, typer.Option(help="one county (default: every county)")] = None,
    lang: Annotated[str, typer.Option(help="zh or en headers")] = "zh",
) -> None:
    """Fill 《技能脱贫千校行动进展情况表》 (layout: content/reports/progress_table.yaml)."""
    from bot.cli.hr import progress_command

    language = checks.language(lang)
    checks.output_file(out)
    url = _db_url(_settings())
    county = checks.area(url, county, "county") if county is not None else None
    raise typer.Exit(progress_command(url, year=year, out=out, county=county, lang=language))


@demo_app.command("seed")
def demo_seed(
    households: Annotated[int, typer.Option(help="how many households")],
    county: Annotated[str | None, typer.Option(help="6-digit county code (default: every county)")] = None,
    bulk: Annotated[bool | None, typer.Option("--bulk/--no-bulk", help="default: bulk above 500")] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
) -> None:
    """Fill the database with synthetic but valid households, wishes, consents and statuses."""
    from bot.cli.hr import demo_seed_command

    settings = _settings()
    if county is not None:
        county = checks.area(_db_url(settings), county, "county")
    raise typer.Exit(
        demo_seed_command(
            _db_url(settings), households=households, county=county, bulk=bulk, seed=seed,
            cipher_secrets=settings.cipher_secrets,
        )
    )  # fmt: skip


def main() -> None:
    """Entry point of the console script: an error a user can fix is one line on stderr, never a traceback."""
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        sys.exit(130)  # Ctrl-C: leave at once, quietly
    except CliError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except (SettingsError, ContentError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(checks.EXIT_USAGE)
    except Exception as exc:
        message = checks.explain(exc)
        if message is None:
            raise
        typer.echo(f"error: {message}", err=True)
        sys.exit(checks.EXIT_FAILURE)


if __name__ == "__main__":
    sys.exit(main())
