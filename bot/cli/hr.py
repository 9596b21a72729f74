"""`outreach export`, `outreach report progress` and `outreach demo seed`: plain functions, no aiogram.

Each returns an exit status: 0 done, 2 bad arguments or data, 3 refused (audited).

Unmasked exports: `--unmasked` needs `--as-telegram-id ID`, the Telegram id of a user whose stored
role may `hr.export_unmasked` the county (an admin whose scope covers it; see
bot.features.access.rules). The CLI
checks that against the database and audits every export (masked ones as "cli:<os user>"). Whoever
runs the CLI already holds the database and DATA_KEY, so this is accountability and a guard
against a slip, not a barrier: the audit log says who asked for full numbers, when, for which county.
"""

from __future__ import annotations

import asyncio
import getpass
import re
import sys
from collections.abc import Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from bot.features.access.rules import can, level_of
from bot.features.demo import seed as demo_seed
from bot.features.hr.tables import day_start, export_job, export_query, measures, write_progress, year_bounds
from content.errors import ContentError
from content.i18n import Translator
from content.progress_table import load_layout
from storage.crypto import Cipher
from storage.db import Database
from storage.exports.progress import ProgressReporter
from storage.hr_export import FORMATS, count_records, export_file
from storage.repositories import audit, masks
from storage.repositories.access import load_member
from storage.repositories.reports import area_names, progress_counts

T = TypeVar("T")
OK, BAD, REFUSED = 0, 2, 3
CHANNEL = "cli"


def _run(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on a fresh event loop."""
    return asyncio.run(make())


def _fail(message: str, status: int = BAD) -> int:
    """Print a one-line error; the exit status."""
    print(f"error: {message}", file=sys.stderr)
    return status


def cli_actor() -> str:
    """The audit actor of whoever runs the CLI: "cli:<os user>"."""
    return "cli:" + (re.sub(r"[^\w.@-]", "_", getpass.getuser()) or "unknown")


async def _with_session(url: str, work: Callable[[Any], Coroutine[Any, Any, T]]) -> T:
    """Run `work(session)` on a database of its own."""
    database = Database.from_url(url)
    try:
        async with database.session() as session:
            return await work(session)
    finally:
        await database.dispose()


# ---------------------------------------------------------------- export


def export_command(
    db_url: str,
    *,
    county: str,
    fmt: str,
    out: Path,
    cipher_secrets: Callable[[], list[str]],
    since: str | None = None,
    unmasked: bool = False,
    as_telegram_id: int | None = None,
    lang: str = "zh_Hans",
    workers: int | None = None,
) -> int:
    """Export a county's records to CSV or XLSX, with a progress bar on a terminal."""
    if level_of(county) != "county":
        return _fail(f"--county {county!r}: a 6-digit county code such as 410225")
    if fmt not in FORMATS:
        return _fail(f"--format {fmt!r}: one of {', '.join(FORMATS)}")
    try:
        start = day_start(date.fromisoformat(since)) if since else None
    except ValueError:
        return _fail(f"--since {since!r}: a date such as 2026-01-31")
    cipher = Cipher.from_secret(cipher_secrets())
    actor = f"tg:{as_telegram_id}" if as_telegram_id is not None else cli_actor()
    if unmasked and not _run(lambda: _may_unmask(db_url, actor, as_telegram_id, county)):
        return _fail("--unmasked needs --as-telegram-id of an admin whose scope covers the county", REFUSED)
    _run(lambda: _with_session(db_url, lambda s: masks.fill_missing(session=s, cipher=cipher)))
    t = Translator(lang)
    query = export_query(t, (county,), since=start, unmasked=unmasked)
    total = count_records(db_url, query)
    with ProgressReporter(f"export {county}", total=total) as reporter:
        written = export_file(
            export_job(db_url, t, query, out, fmt, workers), progress=reporter, cipher=cipher
        )
    action = "hr.export_unmasked" if unmasked else "hr.export"
    _run(lambda: _audit(db_url, actor, action, county, f"rows={written} format={fmt}"))
    print(f"wrote {written:,} records to {out}", file=sys.stderr)
    return OK


async def _may_unmask(url: str, actor: str, telegram_id: int | None, county: str) -> bool:
    """Whether the stored role of `--as-telegram-id` may export full numbers; refusals are audited."""

    async def check(session: Any) -> bool:
        member = await load_member(session=session, channel_key=actor) if telegram_id is not None else None
        allowed = member is not None and can(member, "hr.export_unmasked", county)
        if not allowed:
            await audit.record(
                session=session, actor=actor, action="access.refused", target_kind="county",
                target_id=county, channel=CHANNEL, detail="action=hr.export_unmasked",
            )  # fmt: skip
        return allowed

    return await _with_session(url, check)


async def _audit(url: str, actor: str, action: str, county: str, detail: str) -> None:
    """One audit entry for a CLI export."""

    async def write(session: Any) -> None:
        await audit.record(
            session=session, actor=actor, action=action, target_kind="county", target_id=county,
            channel=CHANNEL, detail=detail,
        )  # fmt: skip

    await _with_session(url, write)


# ---------------------------------------------------------------- the progress table


def progress_command(
    db_url: str, *, year: int, out: Path, county: str | None = None, lang: str = "zh_Hans"
) -> int:
    """Fill 《技能脱贫千校行动进展情况表》 for a year: one row per county, then the total."""
    if county is not None and level_of(county) != "county":
        return _fail(f"--county {county!r}: a 6-digit county code such as 410225")
    if not 2000 <= year <= 2100:
        return _fail(f"--year {year}: a year such as 2026")
    try:
        layout = load_layout()
    except ContentError as exc:
        return _fail(str(exc))
    start, end = year_bounds(year)
    prefixes = (county,) if county else ("",)  # "": every county

    async def figures(session: Any) -> tuple[dict, dict]:
        counts = await progress_counts(
            session=session, measures=measures(layout), start=start, end=end, prefixes=prefixes
        )
        codes = {code for code in counts if code is not None} | ({county} if county else set())
        return counts, await area_names(session=session, codes=codes)

    counts, names = _run(lambda: _with_session(db_url, figures))
    if county is not None and county not in counts:
        counts[county] = {}
    rows = write_progress(out, layout, counts, names, Translator(lang), year)
    counties = "1 county" if rows == 1 else f"{rows} counties"
    print(f"wrote the {year} progress table ({counties}) to {out}", file=sys.stderr)
    return OK


# ---------------------------------------------------------------- demo data


def demo_seed_command(
    db_url: str,
    *,
    households: int,
    cipher_secrets: Callable[[], list[str]],
    county: str | None = None,
    bulk: bool | None = None,
    seed: int = 1,
) -> int:
    """Fill the database with synthetic households (through submit_intake when few, in bulk when many)."""
    if households < 1:
        return _fail("--households must be 1 or more")
    if county is not None and level_of(county) != "county":
        return _fail(f"--county {county!r}: a 6-digit county code such as 410225")
    cipher = Cipher.from_secret(cipher_secrets())
    try:
        counts = demo_seed.seed(
            db_url, households=households, county=county, cipher=cipher, bulk=bulk, seed=seed
        )
    except ValueError as exc:
        return _fail(str(exc))
    print(
        f"seeded {counts.households:,} households, {counts.members:,} members, {counts.records:,} wishes",
        file=sys.stderr,
    )
    return OK
