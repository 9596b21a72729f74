"""HR chat commands on SQLite and PostgreSQL: county scoping, follow-up buttons, notes, household notices."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from aiogram import Bot
from sqlmodel import select

from bot.features.hr.buttons import HrPress
from bot.features.hr.notices import notify_household
from storage.crypto import mask_id, mask_phone
from storage.db import Database
from storage.models import IntentRecord
from storage.models_access import AuditEntry
from storage.models_followup import StatusChange
from storage.repositories.users import ensure_user
from tests.fakebot import FakeBotAPI
from tests.hr_support import (
    ADMIN,
    COUNTY_A,
    GROUP_A,
    GROUP_B,
    HR_A,
    HR_B,
    STRANGER,
    VILLAGE_A,
    VILLAGE_B,
    cipher_fixture,  # noqa: F401
    db_fixture,  # noqa: F401
    press,
    record_messages,
    resident_id,
    send,
    staff,
    submission,
    submit,
    telegram_outbound,
    url_fixture,  # noqa: F401
)

HOUSEHOLD_USER = 777
CHILD_A = resident_id(COUNTY_A, "20090101", "101")


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    """The fake Bot API."""
    async with FakeBotAPI() as server:
        yield server


@pytest.fixture
def bot(fake: FakeBotAPI) -> Bot:
    """A bot talking to it."""
    return fake.make_bot()


@pytest.fixture
async def two_counties(db: Database, cipher) -> None:
    """One household in each county (A's used the bot itself, in English), staff and their groups."""
    data = submission(VILLAGE_A, "张大山", "张小花", 100, answered_by="household")
    await submit(db, cipher, data, who=f"tg:{HOUSEHOLD_USER}")
    await submit(db, cipher, submission(VILLAGE_B, "李大河", "李小草", 200))
    async with db.session() as session:
        await ensure_user(
            session=session, channel_key=f"tg:{HOUSEHOLD_USER}", telegram_id=HOUSEHOLD_USER, language="en"
        )
    await staff(db)


async def audit_entries(db: Database, action: str) -> list[AuditEntry]:
    """The audit entries of one action."""
    async with db.session() as session:
        return list((await session.exec(select(AuditEntry).where(AuditEntry.action == action))).all())


async def rows(db: Database, model: type) -> list:
    """Every row of a table, by id."""
    async with db.session() as session:
        return list((await session.exec(select(model).order_by(model.id))).all())


# ---------------------------------------------------------------- scoping


async def test_a_county_a_chat_never_sees_county_b(fake, bot, db, two_counties):
    assert await send(fake, bot, db, HR_A, "/summary", GROUP_A)
    summary = fake.last_message(GROUP_A).text
    assert "兰考县" in summary and "堌阳镇" in summary and "杞县" not in summary and "五里河镇" not in summary
    assert await send(fake, bot, db, HR_A, "/pending", GROUP_A)
    texts = " ".join(m.text for m in fake.messages_to(GROUP_A))
    assert "张小花" in texts and "李小草" not in texts
    assert mask_id(CHILD_A) in texts and CHILD_A not in texts and mask_phone("13800000100") in texts


async def test_an_admin_of_both_counties_sees_only_the_group_s_county_in_a_group(fake, bot, db, two_counties):
    await send(fake, bot, db, ADMIN, "/pending", GROUP_A)
    texts = " ".join(m.text for m in fake.messages_to(GROUP_A))
    assert "张小花" in texts and "李小草" not in texts
    await send(fake, bot, db, ADMIN, "/pending")  # private chat: the admin's whole scope
    texts = " ".join(m.text for m in fake.messages_to(ADMIN))
    assert "张小花" in texts and "李小草" in texts


async def test_export_in_a_group_holds_only_its_county_masked(fake, bot, db, two_counties):
    assert await send(fake, bot, db, HR_A, "/export", GROUP_A)
    (upload,) = fake.uploads
    assert upload["chat_id"] == GROUP_A and upload["file"].filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(upload["file"].data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 2 and values[1][5] == "张小花" and values[1][9] == mask_id(CHILD_A)
    assert all("李小草" not in str(cell) for row in values for cell in row)
    assert isinstance(values[1][19], datetime)
    assert (await audit_entries(db, "hr.export"))[0].target_id == COUNTY_A


async def test_hr_of_county_a_in_county_b_s_group_and_strangers_are_refused_and_audited(
    fake, bot, db, two_counties
):
    assert await send(fake, bot, db, HR_A, "/pending", GROUP_B)
    assert "县人社局工作人员" in fake.last_message(GROUP_B).text
    assert not record_messages(fake, GROUP_B)
    assert await send(fake, bot, db, STRANGER, "/summary", GROUP_A)
    assert "县人社局工作人员" in fake.last_message(GROUP_A).text
    assert await send(fake, bot, db, HR_A, "/export 410221")
    assert not fake.uploads
    refused = await audit_entries(db, "access.refused")
    assert [(e.actor, e.target_id) for e in refused] == [
        (f"tg:{HR_A}", "pending"), (f"tg:{STRANGER}", "summary"), (f"tg:{HR_A}", "410221"),
    ]  # fmt: skip


async def test_an_unregistered_group_is_told_so(fake, bot, db, two_counties):
    await send(fake, bot, db, HR_A, "/summary", -1009999)
    assert "还没有登记" in fake.last_message(-1009999).text


async def test_other_messages_and_other_bots_commands_are_not_ours(fake, bot, db, two_counties):
    assert not await send(fake, bot, db, HR_A, "hello", GROUP_A)
    assert not await send(fake, bot, db, HR_A, "/start")
    assert not await send(fake, bot, db, HR_A, "/summary@another_bot", GROUP_A)
    assert fake.messages_to(GROUP_A) == []


# ---------------------------------------------------------------- follow-up buttons


async def test_a_status_is_stored_with_who_and_when_and_the_household_is_told_once(
    fake, bot, db, two_counties
):
    fake.add_chat(HOUSEHOLD_USER)
    await send(fake, bot, db, HR_A, "/pending", GROUP_A)
    (card,) = record_messages(fake, GROUP_A)
    before = datetime.now(UTC)
    contacted = next(d for d in card.callback_data if d.endswith(":contacted"))
    assert await press(fake, bot, db, HR_A, card, contacted)
    (record,) = [r for r in await rows(db, IntentRecord) if r.county_code == COUNTY_A]
    assert record.status == "contacted" and record.status_changed_by == f"tg:{HR_A}"
    assert record.open_key is not None and before - timedelta(seconds=1) <= record.status_changed_at
    (change,) = await rows(db, StatusChange)
    assert (change.record_id, change.old_status, change.new_status) == (record.id, "new", "contacted")
    assert (
        change.changed_by == f"tg:{HR_A}"
        and change.chat_key == f"tg:{GROUP_A}"
        and change.household_notified_at
    )
    (notice,) = fake.messages_to(HOUSEHOLD_USER)
    assert "technical school" in notice.text  # in the household's own language
    await press(fake, bot, db, HR_A, card, contacted, check=False)  # a double tap changes nothing
    async with db.session() as session:
        assert not await notify_household(telegram_outbound(bot), session, change.id)  # again: still once
    assert len(fake.messages_to(HOUSEHOLD_USER)) == 1 and len(await rows(db, StatusChange)) == 1


async def test_the_next_text_is_the_note_and_closing_clears_open_key(fake, bot, db, two_counties):
    await send(fake, bot, db, HR_A, "/pending", GROUP_A)
    (card,) = record_messages(fake, GROUP_A)
    await press(fake, bot, db, HR_A, card, next(d for d in card.callback_data if d.endswith(":enrolled")))
    edited = next(m for m in fake.messages_to(GROUP_A) if m.message_id == card.message_id)
    assert [d for d in edited.callback_data if d.startswith("h:n:")] and "回复本消息" in edited.text
    assert await send(fake, bot, db, HR_A, "已报名技校，电话13812345678", GROUP_A)
    (record,) = [r for r in await rows(db, IntentRecord) if r.county_code == COUNTY_A]
    assert record.status == "enrolled" and record.open_key is None
    assert record.status_note == "已报名技校，电话*******5678"
    (change,) = await rows(db, StatusChange)
    assert change.note == record.status_note
    assert not await send(fake, bot, db, HR_A, "a second text is no note", GROUP_A)


async def test_no_note_button_ends_the_wait(fake, bot, db, two_counties):
    await send(fake, bot, db, HR_A, "/pending", GROUP_A)
    (card,) = record_messages(fake, GROUP_A)
    await press(fake, bot, db, HR_A, card, next(d for d in card.callback_data if d.endswith(":declined")))
    edited = next(m for m in fake.messages_to(GROUP_A) if m.message_id == card.message_id)
    (no_note,) = [d for d in edited.callback_data if d.startswith("h:n:")]
    assert await press(fake, bot, db, HR_A, edited, no_note)
    assert not await send(fake, bot, db, HR_A, "too late", GROUP_A)
    restored = next(m for m in fake.messages_to(GROUP_A) if m.message_id == card.message_id)
    assert any(d.endswith(":contacted") for d in restored.callback_data)


async def test_forged_out_of_scope_and_malformed_presses_are_refused_and_audited(fake, bot, db, two_counties):
    await send(fake, bot, db, HR_A, "/pending", GROUP_A)
    (card,) = record_messages(fake, GROUP_A)
    forged = HrPress(a="s", r=99999, s="contacted").pack()
    assert await press(fake, bot, db, HR_A, card, forged, check=False)
    contacted = next(d for d in card.callback_data if d.endswith(":contacted"))
    assert await press(fake, bot, db, HR_B, card, contacted)  # county B's HR, in county A's group
    assert await press(fake, bot, db, HR_A, card, "h:zz", check=False)
    assert not await press(fake, bot, db, HR_A, card, "p:1:x", check=False)
    refused = await audit_entries(db, "access.refused")
    assert [(e.actor, e.target_kind, e.target_id) for e in refused] == [
        (f"tg:{HR_A}", "intent_record", "99999"),
        (f"tg:{HR_B}", "intent_record", card.callback_data[0].split(":")[2]),
        (f"tg:{HR_A}", "callback", None),
    ]
    assert {r.status for r in await rows(db, IntentRecord)} == {"new"}
    assert [a["text"] for a in fake.callback_answers][:2] == ["您无权处理这条记录"] * 2


async def test_pages_of_pending_records(fake, bot, db, cipher, two_counties):
    for serial in range(300, 318, 3):  # six more households in county A: seven records in all
        await submit(db, cipher, submission(VILLAGE_A, f"户主{serial}", f"孩子{serial}", serial))
    await send(fake, bot, db, HR_A, "/pending", GROUP_A)
    assert len(record_messages(fake, GROUP_A)) == 5
    footer = fake.last_message(GROUP_A)
    assert "第 1/2 页" in footer.text
    assert await press(fake, bot, db, HR_A, footer, footer.callback_data[0])
    assert len(record_messages(fake, GROUP_A)) == 7 and "第 2/2 页" in fake.last_message(GROUP_A).text


async def test_an_export_too_large_for_a_chat_points_to_the_cli(fake, bot, db, two_counties, monkeypatch):
    from bot.features.hr import commands

    monkeypatch.setattr(commands, "CHAT_EXPORT_MAX", 0)
    assert await send(fake, bot, db, ADMIN, "/export")
    assert "outreach export" in fake.last_message(ADMIN).text and not fake.uploads
