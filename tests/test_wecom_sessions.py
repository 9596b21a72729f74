"""微信客服 sessions: quiet while a person of the county serves; messages WeCom reports undelivered."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from sqlmodel import select

from bot.core.drafts import remind_drafts
from bot.core.outbound import Outbound
from bot.core.sealing import unseal
from dialogs.model import Reply
from storage.models_channels import HouseholdNotice
from storage.models_wecom import FAILED, RETURNED, WecomOutbox
from storage.repositories import wecom as repo
from tests.fakewecom import SESSION_STATE_INVALID, FakeWeCom
from tests.hr_support import COUNTY_A, VILLAGE_A, submission, submit
from tests.test_intake_dialog import XUCHANG
from tests.wecom_harness import (
    Customer,
    Member,
    hr_member_services,
    settle,
    texts,
    wecom_bot,
    wecom_settings,
)

HR = "hr_lankao"
FAMILY = "wmHousehold02"
KEY = f"wxkf:{FAMILY}"
NOT_TOLD = "农户还没有收到通知"
NEWS = [Reply("core.help")]


@pytest.fixture
async def fake():
    async with FakeWeCom() as server:
        yield server


@pytest.fixture
async def hr_services(fake, tmp_path):
    """A bot whose HR member follows up a household that registered itself in 微信客服."""
    settings = wecom_settings(fake, tmp_path)
    async with hr_member_services(settings, HR, COUNTY_A) as opened:
        data = submission(VILLAGE_A, "赵大山", "赵小花", 7, answered_by="household")
        await submit(opened.database, opened.cipher, data, who=KEY)
        yield settings, opened


async def hr_sets(fake, channel, status: str) -> None:
    """HR presses a follow-up status on the household's record (then leaves the note prompt)."""
    hr = Member(fake, channel, HR)
    pending = await hr.says("/pending")
    card = next(m for m in pending if m.msgtype == "template_card")
    button = next(k.split("|")[0] for k, _ in card.buttons if k.split("|")[0].endswith(f":{status}"))
    await hr.press(button)
    await hr.says("/menu")
    await settle(channel)


async def hr_sees_not_told(fake, channel) -> bool:
    """Whether HR's /pending says the household was not told yet."""
    return NOT_TOLD in texts(await Member(fake, channel, HR).says("/pending"))


async def waiting_notices(services) -> int:
    async with services.database.session() as session:
        return len((await session.exec(select(HouseholdNotice))).all())


async def conversation(channel, key: str) -> str | None:
    async with channel.services.conversations.open(key) as slot:
        return slot.state


async def peer(channel, key: str):
    async with channel.services.database.session() as session:
        return await repo.load_peer(session=session, key=key)


def refusals(fake) -> list[int]:
    return [code for path, code in fake.calls if path == "kf/send_msg" and code]


# ---------------------------------------------------------------- a person serves the customer


async def test_a_person_serving_keeps_the_bot_quiet_across_a_restart_until_the_session_ends(
    fake, tmp_path, bot_database_url
):
    settings = wecom_settings(fake, tmp_path, bot_database_url)
    async with wecom_bot(fake, settings) as channel:
        family = Customer(fake, channel, FAMILY)
        await family.enters(welcome=False)
        assert await family.says("/menu")
        await fake.servicer_takes(FAMILY)  # 从接待池接入会话: 人工接待
        await settle(channel)
    async with wecom_bot(fake, settings) as channel:  # a new process: the state was stored
        family = Customer(fake, channel, FAMILY)
        before = await conversation(channel, KEY)
        fake.advance(3600)
        assert await family.says("/help") == []  # said to the person: the bot keeps quiet
        assert await family.says("1") == []
        assert await conversation(channel, KEY) == before  # and the conversation did not advance
        noted = await peer(channel, KEY)
        assert noted.sent_since == 0 and abs(noted.last_inbound_at - fake.now()) < 60  # contact counted
        assert await channel.services.outbound.send(KEY, NEWS, "zh_Hans") is False  # news waits
        await fake.servicer_ends(FAMILY)  # 结束会话
        await settle(channel)
        assert await channel.services.outbound.send(KEY, NEWS, "zh_Hans") is False  # until it writes
        assert await family.says("/help")  # the bot serves it again
        assert await channel.services.outbound.send(KEY, NEWS, "zh_Hans") is True
        await settle(channel)
    assert refusals(fake) == []  # the bot never wrote while WeCom would have refused it


async def test_a_person_given_the_session_without_an_event_is_learnt_from_the_refusal(fake, tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="bot")
    fake.auto_servicer = "hr_wang"  # on duty: WeCom gives a new session to a person at once
    async with wecom_bot(fake, wecom_settings(fake, tmp_path)) as channel:
        family = Customer(fake, channel, FAMILY)
        await family.enters(welcome=False)
        assert await family.says("/menu") == []  # the reply is refused once ...
        assert refusals(fake) == [SESSION_STATE_INVALID]
        assert ("kf/service_state/get", 0) in fake.calls
        assert (await peer(channel, KEY)).service_state == 3  # ... and the state learnt from WeCom
        async with channel.services.database.session() as session:
            rows = (await session.exec(select(WecomOutbox).where(WecomOutbox.key == KEY))).all()
        assert rows and {row.status for row in rows} == {FAILED}  # dropped: it would talk over the person
        assert await family.says("/help") == []
        assert refusals(fake) == [SESSION_STATE_INVALID]  # not tried again
        fake.auto_servicer = ""
        await fake.servicer_ends(FAMILY)
        assert await family.says("/menu")
    assert FAMILY not in caplog.text and "hr_wang" not in caplog.text


@pytest.mark.parametrize("event", [True, False], ids=["with-event", "without-event"])
async def test_news_for_a_household_a_person_serves_is_held_and_hr_sees_it(fake, hr_services, event):
    settings, opened = hr_services
    async with wecom_bot(fake, settings, opened) as channel:
        family = Customer(fake, channel, FAMILY)
        await family.says("/menu")  # the window is open
        await fake.servicer_takes(FAMILY, event=event)
        await settle(channel)
        told = len(fake.messages_to(FAMILY))
        await hr_sets(fake, channel, "contacted")
        assert len(fake.messages_to(FAMILY)) == told  # nothing reached the household
        assert await waiting_notices(opened) == 1 and await hr_sees_not_told(fake, channel)
        # Without an event the bot tried once, learnt the state, and took the notice back.
        assert refusals(fake) == ([] if event else [SESSION_STATE_INVALID])
        await fake.servicer_ends(FAMILY)
        after = await family.says("/menu")  # the household writes again: the news goes out first
        assert "跟进" in after[0].text
        assert await waiting_notices(opened) == 0 and not await hr_sees_not_told(fake, channel)


# ---------------------------------------------------------------- msg_send_fail


async def test_a_notice_wecom_reports_undelivered_is_held_again_for_the_next_contact(fake, hr_services):
    settings, opened = hr_services
    async with wecom_bot(fake, settings, opened) as channel:
        family = Customer(fake, channel, FAMILY)
        await family.says("/menu")
        await hr_sets(fake, channel, "contacted")
        notice = fake.last_message(FAMILY)
        assert "跟进" in notice.text and await waiting_notices(opened) == 0
        await fake.message_fails(FAMILY, 6, notice)  # over the 5 messages after all
        await settle(channel)
        assert await waiting_notices(opened) == 1 and await hr_sees_not_told(fake, channel)
        async with opened.database.session() as session:
            row = (await session.exec(select(WecomOutbox).where(WecomOutbox.msgid == notice.msgid))).one()
        assert (row.status, row.last_error) == (RETURNED, "fail_type 6")
        # The window is closed until the household writes: nothing is tried (and refused) meanwhile.
        assert await channel.services.outbound.send(KEY, NEWS, "zh_Hans") is False
        after = await family.says("/menu")
        assert "跟进" in after[0].text
        assert await waiting_notices(opened) == 0 and not await hr_sees_not_told(fake, channel)
        await fake.message_fails(FAMILY, 6, notice)  # reported again: nothing changes
        await settle(channel)
        assert await waiting_notices(opened) == 0
    assert refusals(fake) == []


@pytest.mark.parametrize(("fail_type", "window_open"), [(0, True), (4, False), (10, False)])
async def test_a_reply_wecom_reports_undelivered_is_recorded_without_personal_data(
    fake, tmp_path, caplog, fail_type, window_open
):
    caplog.set_level(logging.INFO)
    async with wecom_bot(fake, wecom_settings(fake, tmp_path)) as channel:
        family = Customer(fake, channel, FAMILY)
        await family.says("/menu")
        reply = fake.last_message(FAMILY)
        await fake.message_fails(FAMILY, fail_type, reply)
        await settle(channel)
        async with channel.services.database.session() as session:
            row = (await session.exec(select(WecomOutbox).where(WecomOutbox.msgid == reply.msgid))).one()
        assert (row.status, row.last_error) == (FAILED, f"fail_type {fail_type}")
        assert await channel.services.outbound.send(KEY, NEWS, "zh_Hans") is window_open
    assert f"fail_type {fail_type}" in caplog.text
    assert FAMILY not in caplog.text and reply.text not in caplog.text and reply.msgid not in caplog.text


async def test_a_draft_reminder_wecom_reports_undelivered_is_tried_again(fake, tmp_path):
    async with wecom_bot(fake, wecom_settings(fake, tmp_path)) as channel:
        family = Customer(fake, channel, FAMILY)
        await family.enters(f"v_{XUCHANG}")
        await family.press("household")
        await family.says("李桂花")  # an intake left half-way
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
        assert await remind_drafts(channel.services, now=later) == 1
        await settle(channel)
        reminder = fake.last_message(FAMILY)
        state = unseal(await conversation(channel, KEY), channel.services.cipher, "zh_Hans")
        assert state.data.get("reminded")
        await fake.message_fails(FAMILY, 4, reminder)
        await settle(channel)
        state = unseal(await conversation(channel, KEY), channel.services.cipher, "zh_Hans")
        assert "reminded" not in state.data  # the hourly job tries again
        assert await remind_drafts(channel.services, now=later) == 0  # not while the window is closed
        assert state.answers  # nothing of the draft was lost


async def test_refs_go_only_to_senders_that_take_them_and_come_back_to_their_feature():
    outbound, seen, back = Outbound(), [], []

    async def plain(key, replies, lang):
        seen.append(key)
        return True

    async def tracking(key, replies, lang, ref=None):
        seen.append((key, ref))
        return True

    async def take_back(*, key, ident):
        back.append((key, ident))

    outbound.register("tg", plain)
    outbound.register("wxkf", tracking, refs=True)
    outbound.on_returned("notice", take_back)
    assert await outbound.send("tg:1", NEWS, "zh_Hans", ref="notice:3")
    assert await outbound.send("wxkf:a", NEWS, "zh_Hans", ref="notice:3")
    assert seen == ["tg:1", ("wxkf:a", "notice:3")]
    assert await outbound.returned("wxkf:a", "notice:3") and back == [("wxkf:a", "3")]
    assert not await outbound.returned("wxkf:a", "unknown:1")


async def test_a_window_refusal_holds_the_reply_and_closes_the_window_until_the_next_message(fake, tmp_path):
    async with wecom_bot(fake, wecom_settings(fake, tmp_path)) as channel:
        family = Customer(fake, channel, FAMILY)
        await family.says("/menu")
        fake.fail_next("kf/send_msg", 95999)  # WeCom counts the window otherwise than the bot
        assert await family.says("/help") == []
        assert refusals(fake) == [95999]  # one refusal: the rest wait without being tried
        assert await channel.services.outbound.send(KEY, NEWS, "zh_Hans") is False
        after = await family.says("/menu")  # the held answer to /help goes out first
        assert len(after) >= 2 and refusals(fake) == [95999]
