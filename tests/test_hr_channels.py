"""The HR side through the channel-neutral interfaces: a chat without edit, a household on WeChat.

A WeCom HR member works through an `HrChat` that cannot edit (tests/channel_fakes.FakeHrChat); the
household wrote from 微信客服 ("wxkf:" key), whose 48-hour window decides whether a message the bot
sends on its own can reach it. The notice is held while the window is closed, HR sees "not told
yet", and the notice goes out at the household's next contact (any turn of its conversation).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import AsyncIterator

import openpyxl
import pytest
from sqlmodel import select

from bot.core.services import Services, open_services
from bot.core.settings import load_settings
from bot.core.turns import take_turn
from bot.features.hr.chat import Sender
from bot.features.hr.notices import retry_waiting
from bot.features.hr.router import handle_command, handle_press
from dialogs.model import Input, Reply
from storage.models_access import AuditEntry
from storage.models_channels import HouseholdNotice
from storage.models_followup import StatusChange
from storage.repositories import notices as notices_repo
from storage.repositories.access import grant
from storage.repositories.intake import submit_intake
from storage.repositories.users import ensure_user
from tests.channel_fakes import FakeHrChat
from tests.db_fixtures import MIGRATED_BACKENDS as BACKENDS
from tests.hr_support import COUNTY_A, SECRET, VILLAGE_A, submission

FAMILY = "wxkf:wmFamily-01"
HR = "wecom:wanghr"
HR_SENDER = Sender(HR, True, "zh_Hans")
NOT_TOLD = "农户还没有收到通知"


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest) -> str:
    """A migrated database of each backend."""
    return request.getfixturevalue(request.param)


@pytest.fixture
async def services(url: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Services]:
    """The bot's services on that database, with a household from WeChat and a WeCom HR member."""
    monkeypatch.setenv("DATA_KEY", SECRET)
    opened = await open_services(load_settings(data_dir=tmp_path, database_url=url, bot_token=None))
    async with opened.database.session() as session:
        data = submission(VILLAGE_A, "张大山", "张小花", 100, answered_by="household")
        await submit_intake(session=session, submission=data, cipher=opened.cipher, submitted_by=FAMILY)
        await ensure_user(session=session, channel_key=FAMILY, language="zh_Hans")
        await grant(session=session, channel_key=HR, role="hr", scopes=[("county", COUNTY_A)])
    try:
        yield opened
    finally:
        await opened.close()


class WeChatWindow:
    """The kf sender of a test: delivers only while the family's 48-hour window is open."""

    def __init__(self) -> None:
        self.open = False
        self.delivered: list[tuple[str, list[str]]] = []
        self.refused = 0

    async def __call__(self, key: str, replies: list[Reply], lang: str) -> bool:
        if not self.open:
            self.refused += 1
            return False
        self.delivered.append((key, [r.key for r in replies]))
        return True


async def pending_texts(services: Services, chat: FakeHrChat) -> list[str]:
    """The texts /pending shows the HR member now."""
    before = len(chat.sent)
    async with services.database.session() as session:
        assert await handle_command(chat, Sender(HR, True, "zh_Hans"), "pending", "", session=session)
    return [text for _, text, _ in chat.sent[before:]]


async def export_column(services: Services, chat: FakeHrChat, header: str) -> list[object]:
    """One column of the workbook /export sends the HR member now."""
    async with services.database.session() as session:
        assert await handle_command(chat, HR_SENDER, "export", "", session=session)
    sheet = openpyxl.load_workbook(io.BytesIO(chat.files[-1].data)).active
    rows = list(sheet.iter_rows(values_only=True))
    column = list(rows[0]).index(header)
    return [row[column] for row in rows[1:]]


async def household_writes(services: Services, text: str) -> None:
    """One turn of the family's conversation, as the WeChat channel would run it."""
    today = dt.date(2026, 12, 2).isoformat()
    async with services.conversations.open(FAMILY) as slot, services.database.session() as session:
        await take_turn(
            book=services.book, slot=slot, user_input=Input("text", text, today=today), key=FAMILY,
            default_lang="zh_Hans", effects=services.effects, session=session, cipher=services.cipher,
        )  # fmt: skip


async def test_a_notice_waits_for_a_closed_window_and_goes_out_at_the_next_contact(services):
    window = WeChatWindow()
    services.outbound.register("wxkf", window)  # holds by default, as every 微信客服 sender
    await household_writes(services, "你好")  # the first contact: the conversation exists
    chat = FakeHrChat(HR)
    await pending_texts(services, chat)
    record_id, _, buttons = chat.sent[0]
    contacted = next(b.id for row in buttons for b in row if b.id.endswith(":contacted"))
    async with services.database.session() as session:
        assert await handle_press(
            chat, HR_SENDER, contacted, record_id, session=session, outbound=services.outbound
        )
    assert window.refused == 1 and window.delivered == []
    assert (
        "回复本消息" in chat.sent[-1][1] or "备注" in chat.sent[-1][1]
    )  # no edit: the prompt is a new message
    assert any(NOT_TOLD in text for text in await pending_texts(services, chat))
    assert await export_column(services, chat, "农户通知") == ["尚未通知"]

    await household_writes(services, "还在吗")  # window still closed: still held
    assert window.delivered == [] and window.refused == 2

    window.open = True  # the family writes again: 微信客服 opens the window
    await household_writes(services, "我想问一下")
    assert window.delivered == [(FAMILY, ["hr.notify.contacted"])]
    await household_writes(services, "谢谢")  # told once
    assert len(window.delivered) == 1
    async with services.database.session() as session:
        (change,) = (await session.exec(select(StatusChange))).all()
        assert change.household_notified_at is not None and change.chat_key == HR
        assert (await session.exec(select(HouseholdNotice))).all() == []
        actions = {(e.action, e.channel) for e in (await session.exec(select(AuditEntry))).all()}
    assert ("hr.set_status", "wecom") in actions
    assert not any(NOT_TOLD in text for text in await pending_texts(services, chat))
    assert await export_column(services, chat, "农户通知") == [None]


async def test_a_notice_is_sent_at_once_while_the_window_is_open(services):
    window = WeChatWindow()
    window.open = True
    services.outbound.register("wxkf", window, holds=True)
    chat = FakeHrChat(HR)
    await pending_texts(services, chat)
    record_id, _, buttons = chat.sent[0]
    declined = next(b.id for row in buttons for b in row if b.id.endswith(":declined"))
    async with services.database.session() as session:
        await handle_press(chat, HR_SENDER, declined, record_id, session=session, outbound=services.outbound)
    assert window.delivered == [(FAMILY, ["hr.notify.declined"])]
    assert chat.notices[:1] and chat.notices[0]  # the "saved" notice, shown the channel's way


async def test_a_member_out_of_scope_is_refused_on_any_channel(services):
    async with services.database.session() as session:
        await grant(session=session, channel_key="wecom:other", role="hr", scopes=[("county", "410221")])
    chat = FakeHrChat("wecom:other")
    async with services.database.session() as session:
        await handle_command(chat, Sender("wecom:other", True, "zh_Hans"), "pending", "", session=session)
        forged = f"h:s:{1}:contacted"
        await handle_press(chat, Sender("wecom:other", True, "zh_Hans"), forged, None, session=session)
        refused = (await session.exec(select(AuditEntry).where(AuditEntry.action == "access.refused"))).all()
    assert "张小花" not in "".join(text for _, text, _ in chat.sent)
    assert refused and {e.channel for e in refused} == {"wecom"}


async def test_channels_that_do_not_hold_cost_no_lookup_per_turn_and_are_retried_hourly(
    services, monkeypatch
):
    window = WeChatWindow()  # closed: this channel refuses, but registered without holds
    services.outbound.register("wxkf", window, holds=False)
    chat = FakeHrChat(HR)
    await pending_texts(services, chat)
    record_id, _, buttons = chat.sent[0]
    contacted = next(b.id for row in buttons for b in row if b.id.endswith(":contacted"))
    async with services.database.session() as session:
        await handle_press(chat, HR_SENDER, contacted, record_id, session=session, outbound=services.outbound)
    looked_up = []
    monkeypatch.setattr(notices_repo, "waiting_for", lambda **kw: looked_up.append(kw))
    window.open = True
    await household_writes(services, "你好")
    await household_writes(services, "在吗")
    assert looked_up == [] and window.delivered == []  # the turns did not look for notices
    async with services.database.session() as session:
        assert await retry_waiting(services.outbound, session) == 1  # the hourly job did
        assert await retry_waiting(services.outbound, session) == 0
    assert window.delivered == [(FAMILY, ["hr.notify.contacted"])]
