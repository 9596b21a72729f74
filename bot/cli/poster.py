"""`outreach poster`: a printable PNG with the village's QR code (no aiogram import)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.features.poster import PosterError, deep_link, find_cjk_font, make_poster

EXIT_OK, EXIT_USAGE = 0, 2
VILLAGE_LEVEL = 5


def poster_command(db_url: str, village: str, out: Path, bot_username: str | None, lang: str) -> int:
    """Write the poster of a village; a one-line error and exit code 2 when it cannot be made."""
    from content.i18n import Translator
    from storage import migrate

    try:
        if not bot_username:
            raise PosterError("the bot's username is needed: --bot-username NAME or BOT_USERNAME")
        link = deep_link(bot_username, village)
        font = find_cjk_font()
        migrate.upgrade(db_url)
        place = asyncio.run(_village_name(db_url, village))
    except (PosterError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    text = Translator("en" if lang.startswith("en") else "zh_Hans")
    lines = [place, text.text("poster.scan"), text.text("poster.what"), text.text("poster.help")]
    out.write_bytes(make_poster(link, text.text("poster.title"), [*lines, text.text("poster.source")], font))
    print(f"{out}: {link}")
    return EXIT_OK


async def _village_name(db_url: str, code: str) -> str:
    """ "省 市 县 乡 村" for a village code; ValueError when it is not a known village."""
    from dialogs.areas import AreaIndex
    from storage.db import Database
    from storage.repositories.areas import load_all, seed_if_empty, shipped_csv_paths

    database = Database.from_url(db_url)
    try:
        async with database.session() as session:
            await seed_if_empty(session=session, csv_paths=shipped_csv_paths())
            rows = await load_all(session=session)
    finally:
        await database.dispose()
    index = AreaIndex.build((a.code, a.name, a.parent_code, a.level) for a in rows)
    place = index.get(code)
    if place is None or place.level != VILLAGE_LEVEL:
        raise ValueError(f"no village with code {code} (see `outreach areas list`)")
    return index.describe(code)
