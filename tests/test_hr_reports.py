"""The progress table, reminders and demo data, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import openpyxl
import pytest
from sqlmodel import select
from stdnum.cn import ric

from bot.channels.telegram import digests
from bot.features.delivery.channel import DigestChannels
from bot.features.demo.data import households
from bot.features.hr.reminders import due_reminders, send_reminders
from bot.features.hr.tables import measures, write_progress, year_bounds
from content.demo import load_pools
from content.i18n import Translator
from content.progress_table import TableLayout, fill_sums, load_layout
from storage.bulk_seed import bulk_seed
from storage.db import Database
from storage.models import Household, IntentRecord, Member
from storage.models_followup import MemberMask, StatusChange
from storage.repositories.reports import area_names, progress_counts, reminders_sent
from tests.fakebot import FakeBotAPI
from tests.hr_support import (
    COUNTY_A,
    COUNTY_B,
    GROUP_A,
    GROUP_B,
    VILLAGE_B,
    cipher_fixture,  # noqa: F401
    db_fixture,  # noqa: F401
    staff,
    url_fixture,  # noqa: F401
)

YEAR = 2026
CREATED = datetime(YEAR, 6, 1, tzinfo=UTC)


@pytest.fixture
async def seeded(db: Database, cipher) -> Database:
    """Synthetic households in both counties through the bulk path, registered over the past year."""
    async with db.session() as session:
        villages = [code for code in await _villages(session) if code.startswith((COUNTY_A, COUNTY_B))] + [
            VILLAGE_B
        ] * 10  # county B gets a fair share
        made = households(60, villages, load_pools(), "同意", now=datetime(YEAR, 11, 24, tzinfo=UTC), seed=7)
        rows = ((h.submission, h.created_at, h.statuses) for h in made)
        await bulk_seed(session=session, households=rows, cipher=cipher, actor="cli:test")
    return db


async def _villages(session) -> list[str]:
    """Village codes of the area table."""
    from storage.repositories.areas import load_all

    return [a.code for a in await load_all(session=session) if a.level == 5]


def _independent(rows: list[tuple], layout: TableLayout, start: datetime, end: datetime) -> dict:
    """The layout's counts per county, computed in Python from the plain rows."""
    found: dict = defaultdict(lambda: defaultdict(set))
    for record, member, household in rows:
        person = {f: getattr(member, f) for f in ("sex", "relation", "education", "two_after", "situation")}
        young = member.age is not None and 15 <= member.age <= 30
        person["liang_hou_sheng"] = member.two_after in ("current", "previous") and young
        facts = {**vars(record), **person, "household_status": household.status}
        for column in layout.counted():
            moment = getattr(record, column.date)
            if moment is None or not start <= moment < end:
                continue
            if all(facts.get(name) in values for name, values in (column.where or {}).items()):
                unit = {"records": record.id, "members": record.member_id, "households": record.household_id}
                for county in (record.county_code, None):
                    found[county][column.id].add(unit[column.unit])
    return {county: {key: len(ids) for key, ids in by_id.items()} for county, by_id in found.items()}


async def test_progress_table_figures_equal_counts_made_from_the_records(seeded, tmp_path):
    layout = load_layout()
    start, end = year_bounds(YEAR)
    async with seeded.session() as session:
        counts = await progress_counts(
            session=session, measures=measures(layout), start=start, end=end, prefixes=("",)
        )
        query = (
            select(IntentRecord, Member, Household)
            .join(Member, Member.id == IntentRecord.member_id)
            .join(Household, Household.id == IntentRecord.household_id)
        )
        rows = list((await session.exec(query)).all())
        names = await area_names(session=session, codes=[COUNTY_A, COUNTY_B])
    expected = _independent(rows, layout, start, end)
    assert set(counts) == {COUNTY_A, COUNTY_B, None}
    for county, figures in counts.items():
        assert fill_sums(layout, figures) == fill_sums(layout, expected.get(county, {})), county
    assert counts[None]["people"] > 0 and counts[None]["enrolled_school"] + counts[None]["referred"] > 0
    out = tmp_path / "progress.xlsx"
    assert write_progress(out, layout, counts, names, Translator("zh_Hans"), YEAR) == 2
    book = openpyxl.load_workbook(out)
    table = list(book.worksheets[0].iter_rows(values_only=True))
    assert table[0][:3] == ("县（区）代码", "县（区）", "登记意愿户数") and table[1][:2] == (COUNTY_B, "杞县")
    assert list(table[3][2:]) == fill_sums(layout, counts[None]) and table[3][1] == "合计"
    assert "未公开" in str(list(book.worksheets[1].iter_rows(values_only=True)))


def test_the_liang_hou_sheng_ages_are_the_goals_ages():
    from content.benefits import load_rules
    from storage.repositories.reports import LIANG_HOU_SHENG_AGES

    (goal,) = load_rules().goals
    ages = next(leaf for leaf in goal.conditions.items if getattr(leaf, "field", "") == "person.age")
    assert (min(ages.values), max(ages.values)) == LIANG_HOU_SHENG_AGES


async def test_the_liang_hou_sheng_column_counts_only_young_school_leavers(seeded):
    layout = load_layout()
    start, end = year_bounds(YEAR)
    async with seeded.session() as session:
        # Parents marked as school leavers (the intake marks anyone who left after junior high): not 两后生.
        parents = list((await session.exec(select(Member).where(Member.relation != "child"))).all())[:5]
        for parent in parents:
            parent.two_after, parent.age = "previous", 45
            session.add(parent)
        await session.commit()
        counts = await progress_counts(
            session=session, measures=measures(layout), start=start, end=end, prefixes=("",)
        )
        query = select(IntentRecord, Member).join(Member, Member.id == IntentRecord.member_id)
        rows = list((await session.exec(query)).all())
    in_year = {m.id: m for r, m in rows if start <= r.created_at < end}
    left_school = [m for m in in_year.values() if m.two_after in ("current", "previous")]
    young = [m for m in left_school if m.age is not None and 15 <= m.age <= 30]
    assert any(m.age == 45 for m in left_school)
    assert counts[None]["two_after"] == len(young) < len(left_school)


async def test_bulk_seed_writes_valid_people_with_masks_and_histories(seeded, cipher):
    async with seeded.session() as session:
        members = list((await session.exec(select(Member))).all())
        masks = {m.member_id: m.id_number for m in (await session.exec(select(MemberMask))).all()}
        records = list((await session.exec(select(IntentRecord))).all())
        changes = list((await session.exec(select(StatusChange))).all())
    assert len(members) == 120
    for member in members:
        plain = cipher.decrypt(member.id_number_enc)
        assert ric.is_valid(plain) and masks[member.id] == plain[:4] + "*" * 13 + plain[-1:]
    assert len(changes) == len([r for r in records if r.status != "new"])
    assert all((r.open_key is None) == (r.status in ("enrolled", "referred", "declined")) for r in records)


# ---------------------------------------------------------------- reminders


def test_reminders_are_due_on_1_and_20_november():
    assert due_reminders(date(YEAR, 10, 31)) == [] and due_reminders(date(YEAR, 12, 1)) == []
    assert [r.key for r in due_reminders(date(YEAR, 11, 1))] == ["progress-2026-11-01"]
    assert [r.key for r in due_reminders(date(YEAR, 11, 19))] == ["progress-2026-11-01"]  # catching up
    assert [r.key for r in due_reminders(date(YEAR, 11, 20))] == ["progress-2026-11-20"]


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    """The fake Bot API."""
    async with FakeBotAPI() as server:
        yield server


async def test_each_hr_chat_gets_each_reminder_once(db, fake):
    await staff(db)
    bot = DigestChannels()
    digests.register(bot, fake.make_bot())
    for chat in (GROUP_A, GROUP_B):
        fake.add_chat(chat)
    now = datetime(YEAR, 11, 1, 1, tzinfo=UTC)
    assert await send_reminders(db, bot, today=date(YEAR, 10, 31), now=now) == 0
    assert await send_reminders(db, bot, today=date(YEAR, 11, 1), now=now) == 2
    assert await send_reminders(db, bot, today=date(YEAR, 11, 1), now=now) == 0  # a restart
    assert await send_reminders(db, bot, today=date(YEAR, 11, 5), now=now) == 0
    assert await send_reminders(db, bot, today=date(YEAR, 11, 20), now=now) == 2
    assert await send_reminders(db, bot, today=date(YEAR, 11, 21), now=now) == 0
    for chat in (GROUP_A, GROUP_B):
        texts = [m.text for m in fake.messages_to(chat)]
        assert len(texts) == 2 and "2026年还要不要报" in texts[0] and "再次提醒" in texts[1]
    async with db.session() as session:
        assert await reminders_sent(session=session, reminder="progress-2026-11-20") == sorted(
            [f"tg:{GROUP_A}", f"tg:{GROUP_B}"]
        )


@pytest.mark.parametrize("lang", ["zh_Hans", "en"])
def test_the_notes_sheet_explains_columns_in_words_not_internal_names(lang):
    from bot.features.hr.tables import notes_sheet

    sheet = notes_sheet(load_layout(), Translator(lang), 2026)
    text = "\n".join(str(cell) for row in sheet.rows for cell in row)
    for internal in (
        "two_after",
        "liang_hou_sheng",
        "current, previous",
        "household_status",
        "kind =",
        "status =",
    ):
        assert internal not in text, internal
    # The 两后生 column says its ages (the bot's reading of 适龄), not only "this year or earlier".
    assert ("登记时15到30岁" if lang == "zh_Hans" else "15 to 30 when registered") in text
    expected = (
        "户类别：建档立卡贫困户或脱贫户"
        if lang == "zh_Hans"
        else "Household status: registered poor or lifted"
    )
    assert expected in text
