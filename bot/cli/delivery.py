"""`outreach deliver [--once]` and `outreach hr add|list|remove`: plain functions returning exit codes.

A chat is named by its key (`--to tg:-1001234`, `--to wecom:group:abc`); `--chat -1001234` is the
Telegram shorthand. Audit entries name the chat's channel.

`deliver` serves every configured digest channel: Telegram when BOT_TOKEN is set, the WeCom app
("wecom:<UserID>", "wecom:group:<chatid>") when its settings are complete. The 1/20 November
progress-table reminders (bot/features/hr/reminders.py) are not sent here: `outreach run` sends
them through the same channels (it serves every channel these settings configure), and a second
sender would only race it on the mask backfill that runs first.

Free of typer; only `deliver` imports aiogram, and only with BOT_TOKEN set. Each brings the schema
up to date first. What they print is for operators, in English, as the other admin commands do.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import re
import signal
import sys
from typing import Any

EXIT_OK, EXIT_USAGE = 0, 2
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def deliver(settings: Any, db_url: str, *, once: bool) -> int:
    """Run the delivery worker until stopped (or, with `once`, until nothing waits)."""
    from bot.core.settings import SettingsError
    from bot.features.delivery.config import load_delivery_config

    try:
        wecom = settings.wecom_app_enabled()  # a partial WeCom app configuration is a one-line error
        load_delivery_config(settings)
    except SettingsError as exc:
        return _fail(str(exc))
    if settings.bot_token is None and not wecom:
        return _fail(
            "setting BOT_TOKEN or WECOM_*: needed to deliver digests (Telegram, or the WeCom app: "
            "WECOM_CORP_ID, WECOM_AGENT_ID, WECOM_APP_SECRET, WECOM_CALLBACK_TOKEN, WECOM_CALLBACK_AES_KEY)"
        )
    from storage import migrate

    migrate.upgrade(db_url)
    asyncio.run(_deliver(settings, once, wecom=wecom))
    return EXIT_OK


async def _deliver(settings: Any, once: bool, *, wecom: bool) -> None:
    """Open the channels and run or drain the worker; SIGTERM and SIGINT stop it between steps."""
    from bot.features.delivery.worker import drain_delivery, run_delivery

    async with contextlib.AsyncExitStack() as stack:
        channels = await _digest_channels(settings, stack, wecom=wecom)
        if once:
            await drain_delivery(settings, channels)
            return
        stop = asyncio.Event()
        for signum in STOP_SIGNALS:
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        await run_delivery(settings, channels, stop=stop)


async def _digest_channels(settings: Any, stack: contextlib.AsyncExitStack, *, wecom: bool) -> Any:
    """The digest channels the settings configure, their connections closed by `stack`.

    Telegram (aiogram is imported only then) when BOT_TOKEN is set; the WeCom app, on one HTTP
    session at WECOM_API_URL, when its settings are complete. The channels never import each
    other: this is where they are put side by side.
    """
    from bot.features.delivery.channel import DigestChannels

    channels = DigestChannels()
    if settings.bot_token is not None:
        from bot.channels.telegram import digests as telegram
        from bot.channels.telegram.app import build_bot

        bot = build_bot(settings)
        stack.push_async_callback(bot.session.close)
        telegram.register(channels, bot)
    if wecom:
        import aiohttp

        from bot.channels.wecom import digests as wecom_digests
        from bot.channels.wecom.api import WeComAPI
        from bot.channels.wecom.groups import GroupSends
        from storage.db import Database

        http = await stack.enter_async_context(aiohttp.ClientSession())
        database = Database.from_url(settings.db_url)  # group sends are claimed there, once
        stack.push_async_callback(database.dispose)
        secret = settings.wecom_app_secret.get_secret_value()
        api = WeComAPI(http, settings.wecom_api_url, settings.wecom_corp_id, secret)
        wecom_digests.register(channels, api, settings.wecom_agent_id, GroupSends(api, database))
    return channels


def hr_add(db_url: str, county: str, chat: str | int | None) -> int:
    """Send the county's digests to the chat (a key, or a Telegram chat id); also revives and repairs it."""
    key, problem = _check(county, chat)
    if key is None:
        return _fail(problem or "--to: a chat key")
    row, done = _run(db_url, lambda: _add(db_url, county, key))
    print(f"{done}: county {county} -> chat {key} (id {row.id})")
    return EXIT_OK


def hr_remove(db_url: str, county: str, chat: str | int | None) -> int:
    """Stop sending the county's digests to the chat; waiting records go to its other chats."""
    key, problem = _check(county, chat)
    if key is None:
        return _fail(problem or "--to: a chat key")
    removed = _run(db_url, lambda: _remove(db_url, county, key))
    if removed is None:
        return _fail(f"no active HR chat {key} for county {county} (see `outreach hr list`)")
    print(f"removed: county {county} -> chat {key}")
    return EXIT_OK


def hr_list(db_url: str, *, all_rows: bool = False) -> int:
    """Print one tab-separated line per destination."""
    rows = _run(db_url, lambda: _list(db_url, all_rows))
    print("id\tcounty\tchat\tstate\tfailures\twaiting\tdelivered\tadded_by\tlast_error")
    for row in rows:
        d = row.destination
        state = "removed" if d.removed_at else "broken" if d.broken_at else "active"
        print(f"{d.id}\t{d.county_code}\t{d.chat_key}\t{state}\t{d.failures}\t{row.waiting}\t{row.delivered}"
              f"\t{d.added_by}\t{d.last_error or ''}")  # fmt: skip
    return EXIT_OK


def _check(county: str, chat: str | int | None) -> tuple[str | None, str | None]:
    """The chat's key, or None and why the arguments cannot name a destination."""
    from bot.features.access.rules import level_of
    from bot.features.delivery.commands import destination_key

    if level_of(county) != "county":
        return None, f"--county {county}: a 6-digit county code such as 410225"
    if chat is None:
        return None, "--to KEY (tg:-1001234567890, wecom:group:CHATID, ...) or --chat ID is needed"
    key = destination_key(str(chat))
    if key is None:
        return None, f"--to {chat}: not a chat key (tg:<chat id>, wecom:<UserID>, wecom:group:<chatid>)"
    return key, None


def operator() -> str:
    """Who runs the command, as an audit actor and `added_by`: cli:<os user>."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError):
        name = "unknown"
    return "cli:" + (re.sub(r"[^\w.@-]", "_", name)[:120] or "unknown")


async def _add(db_url: str, county: str, chat_key: str) -> Any:
    """Add the destination and audit it."""
    from storage.models import utc_now
    from storage.repositories import audit, hr_destinations

    async def add(session: Any) -> Any:
        """Add, then audit."""
        now = utc_now()
        active = await hr_destinations.was_active(session=session, county_code=county, chat_key=chat_key)
        row, created = await hr_destinations.add_destination(
            session=session, county_code=county, chat_key=chat_key, added_by=operator(), now=now
        )
        await _audit(audit, session, row.id, "add" if created else "revive", county, chat_key)
        return row, "added" if created else "already active" if active else "enabled again"

    return await _with_session(db_url, add)


async def _remove(db_url: str, county: str, chat_key: str) -> int | None:
    """Remove the destination and audit it."""
    from storage.models import utc_now
    from storage.repositories import audit, hr_destinations

    async def remove(session: Any) -> int | None:
        """Remove, then audit."""
        removed = await hr_destinations.remove_destination(
            session=session, county_code=county, chat_key=chat_key, now=utc_now()
        )
        if removed is not None:
            await _audit(audit, session, removed, "remove", county, chat_key)
        return removed

    return await _with_session(db_url, remove)


async def _list(db_url: str, all_rows: bool) -> Any:
    """The destinations with their counts."""
    from storage.repositories import hr_destinations

    return await _with_session(
        db_url, lambda session: hr_destinations.list_destinations(session=session, include_removed=all_rows)
    )


async def _audit(
    audit: Any, session: Any, destination_id: int | None, what: str, county: str, chat_key: str
) -> None:
    """One audit entry for a change made from the command line, naming the chat's channel."""
    await audit.record(
        session=session, actor=operator(), action="hr.destinations", target_kind="hr_destination",
        target_id=destination_id, channel="cli",
        detail=f"{what} county={county} channel={audit.channel_of(chat_key)}",
    )  # fmt: skip


async def _with_session(db_url: str, work: Any) -> Any:
    """Run `work(session)` on a fresh database handle."""
    from storage.db import Database

    database = Database.from_url(db_url)
    try:
        async with database.session() as session:
            return await work(session)
    finally:
        await database.dispose()


def _run(db_url: str, make: Any) -> Any:
    """Upgrade the schema, then run the coroutine `make` gives on a fresh event loop."""
    from storage import migrate

    migrate.upgrade(db_url)
    return asyncio.run(make())


def _fail(message: str) -> int:
    """Print a one-line error on stderr and give the usage exit code."""
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_USAGE
