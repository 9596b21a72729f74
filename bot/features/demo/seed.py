"""Seeding synthetic households: through the real repository (submit_intake) for a few, in bulk for many.

The repository path is the one real submissions take (matching, consents, an outbox entry per wish:
HR chats registered for the county will receive them), then follow-up statuses are given with
storage.repositories.followup, so histories exist too. The bulk path (storage.bulk_seed) writes
the same kind of rows without matching or outbox, fast enough to make a million records.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.features.demo.data import DemoHousehold, households
from bot.features.intake.effects import CONSENT_TEXT_KEY
from content.demo import load_pools
from content.i18n import Translator
from dialogs.model import DEFAULT_LANGUAGE
from storage import migrate
from storage.bulk_seed import SeedCounts, bulk_seed, bulk_seed_sqlite
from storage.crypto import Cipher
from storage.db import Database
from storage.models import Household
from storage.repositories import areas, followup
from storage.repositories.intake import submit_intake
from storage.urls import parse_url

SUBMIT_MAX = 500  # households above this go the bulk path unless told otherwise
ACTOR = "cli:demo"
VILLAGE_LEVEL = 5


def seed(
    url: str,
    *,
    households: int,
    cipher: Cipher,
    county: str | None = None,
    bulk: bool | None = None,
    seed: int = 1,
) -> SeedCounts:
    """Seed `households` synthetic households in the villages of `county` (or of every county)."""
    villages, existing = asyncio.run(_villages(url, county))
    if not villages:
        raise ValueError(f"no villages{' in ' + county if county else ''}: import the area list first")
    consent = Translator(DEFAULT_LANGUAGE).text(CONSENT_TEXT_KEY)
    # Running numbers continue after the households already stored, so a second seeding adds new people.
    made = households_of(households, villages, consent, seed, start=existing)
    if not (households > SUBMIT_MAX if bulk is None else bulk):
        return asyncio.run(_submit_all(url, made, cipher))
    rows = ((h.submission, h.created_at, h.statuses) for h in made)
    parsed = parse_url(url)
    if parsed.is_sqlite and parsed.sqlite_path:
        return bulk_seed_sqlite(path=parsed.sqlite_path, households=rows, cipher=cipher, actor=ACTOR)
    return asyncio.run(_bulk(url, rows, cipher))


def households_of(
    count: int, villages: list[str], consent: str, seed: int, start: int = 0
) -> Iterator[DemoHousehold]:
    """The synthetic households, made now."""
    return households(count, villages, load_pools(), consent, now=datetime.now(UTC), seed=seed, start=start)


async def _villages(url: str, county: str | None) -> tuple[list[str], int]:
    """Village codes (the shipped lists go into an empty area table), and the largest household id."""
    await migrate.upgrade_async(url)
    database = Database.from_url(url)
    try:
        async with database.session() as session:
            await areas.seed_if_empty(session=session, csv_paths=areas.seed_csv_paths())
            rows = await areas.load_all(session=session)
            stored = (await session.exec(select(func.max(Household.id)))).one() or 0
    finally:
        await database.dispose()
    offered = [a for a in rows if a.level == VILLAGE_LEVEL and not a.retired]
    wanted = [a for a in offered if county is None or a.code.startswith(county)]
    return [a.code for a in wanted], stored


async def _submit_all(url: str, made: Iterable[DemoHousehold], cipher: Cipher) -> SeedCounts:
    """Each household through submit_intake, then its wishes' statuses through the follow-up repository."""
    counts = SeedCounts()
    database = Database.from_url(url)
    try:
        async with database.session() as session:
            for household in made:
                result = await submit_intake(
                    session=session, submission=household.submission, cipher=cipher,
                    submitted_by=ACTOR, now=household.created_at,
                )  # fmt: skip
                counts.households += 1
                counts.members += len([m for m in result.member_ids if m is not None])
                counts.records += len(result.new_intent_ids)
                await _statuses(session, result.new_intent_ids, household)
    finally:
        await database.dispose()
    return counts


async def _statuses(session: AsyncSession, record_ids: tuple[int, ...], household: DemoHousehold) -> None:
    """Give the new records their planned statuses a few days after registration."""
    for record_id, status in zip(record_ids, household.statuses, strict=False):
        if status != "new":
            when = household.created_at + timedelta(days=1 + record_id % 20)
            await followup.set_status(
                session=session, record_id=record_id, status=status, actor=ACTOR, chat_key=None, now=when
            )


async def _bulk(url: str, rows: Iterable[tuple], cipher: Cipher) -> SeedCounts:
    """The bulk path through an async session (PostgreSQL)."""
    database = Database.from_url(url)
    try:
        async with database.session() as session:
            return await bulk_seed(session=session, households=rows, cipher=cipher, actor=ACTOR)
    finally:
        await database.dispose()
