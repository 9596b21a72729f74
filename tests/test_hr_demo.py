"""`outreach demo seed` (both paths) and the precomputed masks, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import func, select
from stdnum.cn import ric

from bot.cli.hr import demo_seed_command
from storage.crypto import Cipher, mask_id
from storage.db import Database
from storage.models import Household, IntentRecord, Member, Outbox
from storage.models_followup import HouseholdMask, MemberMask, StatusChange
from storage.repositories import masks
from tests.db_fixtures import run_in_own_loop
from tests.hr_support import COUNTY_A, SECRET, url_fixture  # noqa: F401


def seed(url: str, households: int, bulk: bool | None) -> int:
    """Run the CLI function."""
    return demo_seed_command(
        url, households=households, county=COUNTY_A, bulk=bulk, cipher_secrets=lambda: [SECRET], seed=3
    )


def counts(url: str) -> dict[str, int]:
    """Rows per table."""

    async def read() -> dict[str, int]:
        database = Database.from_url(url)
        try:
            async with database.session() as session:
                tables = (Household, Member, IntentRecord, Outbox, StatusChange, MemberMask, HouseholdMask)
                found = {}
                for model in tables:
                    found[model.__tablename__] = (
                        await session.exec(select(func.count()).select_from(model))
                    ).one()
                return found
        finally:
            await database.dispose()

    return run_in_own_loop(read)


def people(url: str) -> list[tuple[str, str | None, str]]:
    """(ID token, mask, village) of every member."""

    async def read() -> list[tuple[str, str | None, str]]:
        database = Database.from_url(url)
        try:
            async with database.session() as session:
                query = (
                    select(Member.id_number_enc, MemberMask.id_number, Household.village_code)
                    .join(Household, Household.id == Member.household_id)
                    .outerjoin(MemberMask, MemberMask.member_id == Member.id)
                )
                return list((await session.exec(query)).all())
        finally:
            await database.dispose()

    return run_in_own_loop(read)


def test_a_few_households_go_through_the_real_repository(url):
    assert seed(url, 6, None) == 0
    found = counts(url)
    assert found["household"] == 6 and found["member"] == 12 and found["intent_record"] >= 6
    assert found["outbox"] == found["intent_record"]  # what submit_intake writes
    assert found["member_mask"] == 12 and found["household_mask"] == 6
    assert 0 < found["intent_status_change"] < found["intent_record"]
    cipher = Cipher.from_secret(SECRET)
    for token, mask, village in people(url):
        plain = cipher.decrypt(token)
        assert ric.is_valid(plain) and mask == mask_id(plain) and village.startswith(COUNTY_A)


def test_many_households_go_the_bulk_path_without_outbox(url):
    assert seed(url, 40, True) == 0
    assert seed(url, 10, True) == 0  # a second batch continues the ids
    found = counts(url)
    assert found["household"] == 50 and found["member"] == 100 and found["outbox"] == 0
    cipher = Cipher.from_secret(SECRET)
    assert all(ric.is_valid(cipher.decrypt(token)) for token, _, _ in people(url))


def test_bad_arguments(url, capsys):
    assert demo_seed_command(url, households=0, cipher_secrets=lambda: [SECRET]) == 2
    assert demo_seed_command(url, households=3, county="41", cipher_secrets=lambda: [SECRET]) == 2
    assert "error:" in capsys.readouterr().err


def test_missing_masks_are_filled(url):
    assert seed(url, 3, False) == 0

    async def drop_and_fill() -> int:
        database = Database.from_url(url)
        try:
            async with database.session() as session:
                await session.exec(delete(MemberMask))
                await session.exec(delete(HouseholdMask))
                await session.commit()
                return await masks.fill_missing(session=session, cipher=Cipher.from_secret(SECRET))
        finally:
            await database.dispose()

    assert run_in_own_loop(drop_and_fill) == 9
    found = counts(url)
    assert found["member_mask"] == 6 and found["household_mask"] == 3
    cipher = Cipher.from_secret(SECRET)
    assert all(mask == mask_id(cipher.decrypt(token)) for token, mask, _ in people(url))
