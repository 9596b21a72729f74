"""`outreach poster --village|--township|--county CODE --out FILE.pdf`: village posters (no aiogram import).

Checks everything it can before the slow part: the code and its level, that the area has villages,
the channel and its link, the font, that the output can be written. Each failure is one line on
stderr and exit code 2. A terminal sees the pages counted on stderr; a pipe sees nothing but the
closing line.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.cli.areas import progress_on_terminal
from bot.features.poster import PosterError, PosterPage, PosterTexts, find_cjk_font, render_pdf, village_link
from content.i18n import Translator
from dialogs.areas import COUNTY, TOWNSHIP, AreaIndex, Place

EXIT_OK, EXIT_USAGE = 0, 2
LEVELS = {"county": 3, "township": 4, "village": 5}
VILLAGE_LEVEL = 5


@dataclass(frozen=True)
class PosterRequest:
    """What `outreach poster` was asked for."""

    out: Path
    areas: Mapping[str, str | None]  # exactly one of village / township / county is set
    channel: str = "telegram"
    options: Mapping[str, str | None] = field(default_factory=dict)  # what the channel's link needs
    lang: str = "zh"


def poster_command(db_url: str, request: PosterRequest) -> int:
    """Write the posters; a one-line error and exit code 2 when they cannot be made."""
    try:
        level_key, code = _one_area(request.areas)
        village_link(request.channel, "0" * 12, request.options)  # the link can be built at all
        font = find_cjk_font()
        _check_writable(request.out)
        pages = asyncio.run(_pages(db_url, level_key, code, request))
        data = render_pdf(pages, _texts(request.lang), font, _progress(len(pages)))
        request.out.write_bytes(data)
    except (PosterError, ValueError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot write {request.out}: {exc.strerror}")
    print(f"{request.out}: {len(pages)} posters")
    return EXIT_OK


def _one_area(areas: Mapping[str, str | None]) -> tuple[str, str]:
    """The one area asked for, as (level key, code)."""
    given = [(key, code.strip()) for key, code in areas.items() if code and code.strip()]
    if len(given) != 1:
        raise ValueError("give exactly one of --village, --township, --county")
    return given[0]


def _check_writable(out: Path) -> None:
    """Refuse, before any work, an output the user cannot write."""
    folder = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise ValueError(f"cannot write {out}: it is a directory")
    if not folder.is_dir():
        raise ValueError(f"cannot write {out}: no folder {folder}")
    if not os.access(folder, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise ValueError(f"cannot write {out}: permission denied")


async def _pages(db_url: str, level_key: str, code: str, request: PosterRequest) -> list[PosterPage]:
    """One page per offered village under the area; ValueError for a bad code or an area without villages."""
    from storage import migrate
    from storage.db import Database
    from storage.repositories.areas import seed_csv_paths, seed_if_empty, subtree_rows

    await migrate.upgrade_async(db_url)
    database = Database.from_url(db_url)
    try:
        async with database.session() as session:
            await seed_if_empty(session=session, csv_paths=seed_csv_paths())
            index = AreaIndex.build(await subtree_rows(session=session, code=code))
    finally:
        await database.dispose()
    area = index.get(code)
    if area is None or area.level != LEVELS[level_key] or area.retired:
        raise ValueError(f"no {level_key} with code {code} (see `outreach areas list`)")
    villages = [area] if area.level == VILLAGE_LEVEL else list(index.descendants(code, VILLAGE_LEVEL))
    if not villages:
        raise ValueError(f"{level_key} {code} ({area.name}) has no villages in the area list")
    return [_page(index, village, request) for village in villages]


def _page(index: AreaIndex, village: Place, request: PosterRequest) -> PosterPage:
    """The page of one village: short name, county and township, the channel's link."""
    county, township = index.ancestor(village.code, COUNTY), index.ancestor(village.code, TOWNSHIP)
    names = {"county": county.name if county else "", "township": township.name if township else ""}
    place = Translator(_language(request.lang)).text("poster.place", names)
    link = village_link(request.channel, village.code, request.options)
    return PosterPage(village.code, village.name, place, link)


def _texts(lang: str) -> PosterTexts:
    """The catalog lines of every page."""
    text = Translator(_language(lang))
    return PosterTexts(
        (text.text("poster.what"), text.text("poster.do"), text.text("poster.help")),
        text.text("poster.source"),
    )


def _language(lang: str) -> str:
    """The catalog language of --lang."""
    return "en" if lang.startswith("en") else "zh_Hans"


def _progress(total: int) -> Callable[[int], None] | None:
    """Pages counted on a terminal's stderr."""
    show = progress_on_terminal(sys.stderr, "posters")
    return (lambda done: show(done, total)) if show is not None else None


def _fail(message: str) -> int:
    """Print a one-line error on stderr and give the usage exit code."""
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_USAGE
