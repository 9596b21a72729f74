"""WeCom guarantees: applied once, answered fast, token refetch, retries, the 客服 cursor and window."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest
from sqlmodel import select

from bot.channels.wecom.api import WeComAPI, WeComError
from dialogs.model import Reply
from storage.models_wecom import WecomOutbox
from tests.fakewecom import FakeWeCom
from tests.test_intake_dialog import SON_ID, XUCHANG
from tests.wecom_harness import Customer, Member, settle, texts, wecom_bot, wecom_settings

USER = "lisi"


@pytest.fixture
async def fake():
    async with FakeWeCom() as server:
        yield server


async def test_a_message_delivered_twice_is_applied_once(fake, tmp_path):
    async with wecom_bot(fake, wecom_settings(fake, tmp_path)) as channel:
        first = await fake.member_sends(USER, "/start", msgid=777)
        again = await fake.member_sends(USER, "/start", msgid=777)
        await settle(channel)
        assert first.status == again.status == 200
        assert len(fake.messages_to(USER)) == 2  # welcome and menu, once


async def test_an_event_delivered_twice_is_applied_once(fake, tmp_path):
    async with wecom_bot(fake, wecom_settings(fake, tmp_path)) as channel:
        member = Member(fake, channel, USER)
        await member.says("/start")
        fields = fake._member_fields(USER, "event", Event="click", EventKey="help")
        await fake.post_message(fields)
        await fake.post_message(fields)  # WeCom retries an event with the same sender and time
        await settle(channel)
        assert len(fake.messages_to(USER)) == 2 + 1 + 1  # help text, then the question again... once
        assert texts(fake.messages_to(USER)[2:3]).count("帮助") <= 1


async def test_a_slow_send_api_does_not_delay_the_acknowledgement_nor_send_twice(fake, tmp_path):
    fake.send_delay = 2.0
    async with wecom_bot(fake, wecom_settings(fake, tmp_path)) as channel:
        answers = [await fake.member_sends(f"user{i}", "/start") for i in range(5)]
        assert max(a.seconds for a in answers) < 1.0
        await settle(channel, timeout=30)
    for i in range(5):
        assert len(fake.messages_to(f"user{i}")) == 2
    assert len(fake.sent) == 10


async def test_an_expired_token_is_fetched_again_once(fake, tmp_path):
    async with wecom_bot(fake, wecom_settings(fake, tmp_path)) as channel:
        member = Member(fake, channel, USER)
        await member.says("/start")
        fetched = fake.gettoken_calls
        fake.expire_tokens()
        assert "帮助" in texts(await member.says("/help")) or fake.messages_to(USER)
        assert fake.gettoken_calls == fetched + 1
        assert ("message/send", 42001) in fake.calls


async def test_concurrent_callers_share_one_token_fetch_and_limits_are_waited_out(fake):
    async with aiohttp.ClientSession() as http:
        api = WeComAPI(http, fake.base_url, fake.corp_id, fake.app_secret, backoff=(0.01, 0.01, 0.01))
        await asyncio.gather(*(api.token() for _ in range(20)))
        assert fake.gettoken_calls == 1
        fake.fail_next("menu/create", 45009, -500)
        await api.call("menu/create", {"button": [{"type": "click", "name": "x", "key": "menu"}]},
                       agentid=fake.agent_id)  # fmt: skip
        assert [code for path, code in fake.calls if path == "menu/create"] == [45009, -500, 0]
        fake.expire_tokens()
        media_id = await api.upload("file", "名单.xlsx", b"PK\x03\x04", "application/octet-stream")
        assert media_id == fake.uploads[-1]["media_id"] and fake.gettoken_calls == 2
        bad = WeComAPI(http, fake.base_url, fake.corp_id, "wrong-secret")
        with pytest.raises(WeComError) as error:
            await bad.call("menu/create", {})
        assert error.value.errcode == 40001 and "wrong-secret" not in str(error.value)


async def test_a_stale_card_press_greys_the_card_with_a_notice(fake, tmp_path):
    async with wecom_bot(fake, wecom_settings(fake, tmp_path)) as channel:
        member = Member(fake, channel, USER)
        _, menu = await member.says("/start")
        await member.press("explain")
        before = len(fake.messages_to(USER))
        await fake.member_presses(USER, menu, "check")  # the old menu card, pressed again
        await settle(channel)
        update = fake.card_updates[-1]["button"]["replace_name"]
        assert not update.startswith("✓") and update
        # The question the member is at is shown again; nothing was chosen.
        again = fake.messages_to(USER)[before:]
        assert again and again[0].text == fake.messages_to(USER)[before - len(again)].text


async def test_oversized_or_forged_callbacks_change_nothing(fake, tmp_path):
    async with wecom_bot(fake, wecom_settings(fake, tmp_path)):
        big = await fake.post_raw(b"<xml>" + b"x" * 70_000 + b"</xml>", {}, fake.app_path)
        assert big.status in (403, 413)
        other = FakeWeCom(corp_id=fake.corp_id, token="another-token", aes_key=fake.aes_key)
        fields = fake._member_fields(USER, "text", Content="/start", MsgId=1)
        from bot.channels.wecom.crypto import CallbackCrypto
        from bot.channels.wecom.envelope import to_xml

        crypto = CallbackCrypto(other.token, fake.aes_key, fake.corp_id)
        encrypted = crypto.encrypt(to_xml(fields))
        params = {"msg_signature": crypto.sign("1", "2", encrypted), "timestamp": "1", "nonce": "2"}
        forged = await fake.post_raw(to_xml({"Encrypt": encrypted}).encode(), params, fake.app_path)
        assert forged.status == 403
    assert fake.messages_to(USER) == []


async def test_personal_numbers_stay_out_of_logs_and_the_outbox(fake, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="bot")
    async with wecom_bot(fake, wecom_settings(fake, tmp_path)) as channel:
        family = Customer(fake, channel, "wmPrivacy")
        await family.enters(f"v_{XUCHANG}")
        await family.press("household")
        await family.says("李桂花")
        await family.press("unknown", "skip", "skip")
        await family.says("李小军")
        await family.press("sibling", "male")
        await family.says("30")  # the age comes before the ID number (issue 12)
        fake.fail_next("kf/send_msg", 45009, 45009, 45009, 45009)  # errors get logged on this path
        await family.says(SON_ID)
        await settle(channel, timeout=30)
        async with channel.services.database.session() as session:
            payloads = [row.payload for row in (await session.exec(select(WecomOutbox))).all()]
    assert payloads and not any("李桂花" in p or SON_ID in p for p in payloads)
    assert SON_ID not in caplog.text and "李桂花" not in caplog.text and "wmPrivacy" not in caplog.text


# ---------------------------------------------------------------- 微信客服: cursor and window


async def test_a_restart_in_the_middle_of_a_page_applies_each_message_once(fake, tmp_path):
    settings = wecom_settings(fake, tmp_path)
    async with wecom_bot(fake, settings) as channel:
        family = Customer(fake, channel, "wmRestart")
        await family.enters()
        await family.says("/help")
        reader = channel.kf_reader
        assert reader is not None
        original = channel.dialogs.apply
        applied: list[str] = []

        async def crash_on_second(incoming):
            if len(applied) == 1:
                raise asyncio.CancelledError  # the process dies here (not an error the reader handles)
            applied.append(incoming.digest)
            return await original(incoming)

        # Three messages arrive in one page; the bot dies after applying the first.
        for text in ("/menu", "/help", "/language"):
            fake.customer_message("wmRestart", {"content": text})
        channel.dialogs.apply = crash_on_second  # type: ignore[method-assign]
        with pytest.raises(asyncio.CancelledError):
            await reader.read()
        await settle(channel)
        first_run = list(applied)
    async with wecom_bot(fake, settings) as channel:  # a new process, the same database
        original = channel.dialogs.apply
        results: list[bool] = []

        async def record(incoming):
            results.append(await original(incoming))
            return results[-1]

        channel.dialogs.apply = record  # type: ignore[method-assign]
        await fake.kf_notify()
        await settle(channel)
    # The page is read again from the saved cursor: /menu (applied before the crash) is skipped,
    # /help and /language are applied now.
    assert len(first_run) == 1 and results == [False, True, True]


async def test_a_message_that_fails_is_answered_with_an_apology_and_the_stream_goes_on(fake, tmp_path):
    async with wecom_bot(fake, wecom_settings(fake, tmp_path)) as channel:
        family = Customer(fake, channel, "wmPoison")
        await family.says("/menu")
        original = channel.dialogs.apply

        async def fail_on_help(incoming):
            if incoming.user_input.value == "help":
                raise RuntimeError("a bug")
            return await original(incoming)

        channel.dialogs.apply = fail_on_help  # type: ignore[method-assign]
        fake.customer_message("wmPoison", {"content": "/help"})
        after = await family.says("/language")
        assert after[0].text == "抱歉，出了点问题。您填的内容没有丢，请再试一次。"
        assert any("语言" in m.text or "Language" in m.text for m in after)


async def test_empty_pages_with_has_more_are_followed(fake, tmp_path):
    async with wecom_bot(fake, wecom_settings(fake, tmp_path)) as channel:
        fake.empty_pages, fake.page_size = 2, 1
        family = Customer(fake, channel, "wmPages")
        await family.enters()
        fake.customer_message("wmPages", {"content": "/help"})
        await family.says("/menu")
        assert sum(1 for m in fake.messages_to("wmPages") if m.buttons) >= 2


async def test_news_reaches_a_household_inside_its_window_and_waits_outside(fake, tmp_path):
    async with wecom_bot(fake, wecom_settings(fake, tmp_path)) as channel:
        family = Customer(fake, channel, "wmNews")
        await family.enters(welcome=False)
        news = [Reply("core.help")]
        # Entering is not a message: the window is not open yet.
        assert await channel.services.outbound.send("wxkf:wmNews", news, "zh_Hans") is False
        await family.says("/menu")
        assert await channel.services.outbound.send("wxkf:wmNews", news, "zh_Hans") is True
        await settle(channel)
        assert "帮助" in fake.last_message("wmNews").text or fake.last_message("wmNews").text
        fake.advance(49 * 3600)  # two days later the window is closed
        assert await channel.services.outbound.send("wxkf:wmNews", news, "zh_Hans") is False
        sent = len(fake.messages_to("wmNews"))
        await settle(channel)
        assert len(fake.messages_to("wmNews")) == sent


async def test_the_five_message_quota_holds_the_rest_until_the_next_message(fake, tmp_path):
    async with wecom_bot(fake, wecom_settings(fake, tmp_path)) as channel:
        family = Customer(fake, channel, "wmQuota")
        await family.enters(welcome=False)
        await family.says("/menu")
        outbound = channel.services.outbound
        # The held welcome and menu, and the answer to /menu: three of the five messages.
        assert len(fake.messages_to("wmQuota")) == 3
        results = []
        for _ in range(4):
            results.append(await outbound.send("wxkf:wmQuota", [Reply("core.help")], "zh_Hans"))
            await settle(channel)
        assert results == [True, True, False, False]
        assert len(fake.messages_to("wmQuota")) == 5
        assert not [c for p, c in fake.calls if p == "kf/send_msg" and c]  # nothing refused by WeCom


async def test_opening_the_app_starts_only_a_new_member_and_pictures_get_a_friendly_reply(fake, tmp_path):
    async with wecom_bot(fake, wecom_settings(fake, tmp_path)) as channel:
        await fake.member_opens_app(USER)
        await settle(channel)
        assert "政策小助手" in fake.messages_to(USER)[0].text
        opened = len(fake.messages_to(USER))
        fake.advance(5)
        await fake.member_opens_app(USER)  # every later opening is not an input
        await settle(channel)
        assert len(fake.messages_to(USER)) == opened
        await fake.member_sends_image(USER)
        await settle(channel)
        assert len(fake.messages_to(USER)) > opened  # "please type or tap", the question again


async def test_old_inputs_and_sent_messages_are_purged(fake, tmp_path):
    async with wecom_bot(fake, wecom_settings(fake, tmp_path)) as channel:
        await Member(fake, channel, USER).says("/start")
        fake.advance(4 * 24 * 3600)
        await channel.purge()
        async with channel.services.database.session() as session:
            assert (await session.exec(select(WecomOutbox))).all() == []
        again = await fake.member_sends(USER, "/help", msgid=1)
        await settle(channel)
        assert again.status == 200
