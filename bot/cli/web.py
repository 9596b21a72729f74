"""`outreach web link --as KEY`: print a one-time sign-in link to the HR console for a staff member."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

from bot.cli.hr import cli_actor
from bot.core.settings import Settings
from bot.features.sign_in import sign_in_link
from storage import migrate
from storage.db import Database
from storage.repositories import audit

OK, REFUSED = 0, 3


def link_command(settings: Settings, db_url: str, user_key: str) -> int:
    """Print the link on stdout; refuse (one line, exit 3) anyone who is not HR staff or an admin."""
    link = asyncio.run(_link(settings, db_url, user_key))
    if link is None:
        print(f"error: {user_key} is not county HR staff or an admin (see `outreach users`)", file=sys.stderr)
        return REFUSED
    print(link)
    return OK


async def _link(settings: Settings, db_url: str, user_key: str) -> str | None:
    """Make the link and audit it."""
    await migrate.upgrade_async(db_url)
    database = Database.from_url(db_url)
    try:
        async with database.session() as session:
            link = await sign_in_link(
                session=session, user_key=user_key, settings=settings, now=datetime.now(UTC)
            )
            if link is not None:
                await audit.record(
                    session=session, actor=cli_actor(), action="web.link", target_kind="user", target_id=None,
                    channel="cli", detail=None,
                )  # fmt: skip
        return link
    finally:
        await database.dispose()
