"""County HR digests through the WeCom app: the delivery worker's protocol for a channel without edit."""

from __future__ import annotations

import hashlib
import logging

import aiohttp
import pytest

from bot.channels.wecom.api import WeComAPI
from bot.channels.wecom.digests import WeComDigests
from bot.channels.wecom.groups import GroupSends
from bot.core.services import open_services
from bot.features.delivery.channel import Rejected, Unreachable
from bot.features.delivery.worker import drain_delivery
from storage.models import utc_now
from storage.repositories import wecom_groups
from storage.repositories.hr_destinations import add_destination
from tests.fakewecom import FakeWeCom
from tests.hr_support import COUNTY_A, VILLAGE_A, submission, submit
from tests.wecom_harness import wecom_bot, wecom_settings

GROUP = "wecom:group:lankaohr"
MAYBE_LOST = "可能没有发到本群"


@pytest.fixture
async def fake():
    async with FakeWeCom() as server:
        yield server


@pytest.fixture
async def digests(fake):
    async with aiohttp.ClientSession() as http:
        api = WeComAPI(http, fake.base_url, fake.corp_id, fake.app_secret, backoff=(0.01,))
        yield WeComDigests(api, fake.agent_id)


async def two_records_for(services, chat_key: str) -> None:
    """Two households registered in 兰考县, whose digests go to `chat_key`."""
    for serial in (1, 3):
        await submit(services.database, services.cipher, submission(VILLAGE_A, "王建国", "王小明", serial))
    async with services.database.session() as session:
        await add_destination(
            session=session, county_code=COUNTY_A, chat_key=chat_key, added_by="cli:test", now=utc_now()
        )


async def test_a_digest_reaches_an_hr_member_with_its_spreadsheet_and_chart(fake, tmp_path):
    settings = wecom_settings(fake, tmp_path, digest_min_records=1)
    services = await open_services(settings)
    try:
        await two_records_for(services, "wecom:hr_lankao")
        async with wecom_bot(fake, settings, services):
            await drain_delivery(settings, services.digests)
            await drain_delivery(settings, services.digests)  # nothing is sent twice
    finally:
        await services.close()
    kinds = [m.msgtype for m in fake.messages_to("hr_lankao")]
    assert kinds.count("file") == 1 and kinds.count("image") == 1
    digest = next(m for m in fake.messages_to("hr_lankao") if m.msgtype == "text")
    assert "兰考县 · 第 1 份" in digest.text and "本次新登记 2 条" in digest.text
    assert "4102*************" in digest.text and "13800000001" not in digest.text
    assert all(len(m.text.encode()) <= 2048 for m in fake.messages_to("hr_lankao"))
    assert {u["type"] for u in fake.uploads} == {"file", "image"}


async def test_the_same_digest_sent_again_is_dropped_by_the_duplicate_check(fake, digests):
    first = await digests.send_text("wecom:hr1", "第 1 份汇总", dedupe_key="digest-1")
    await digests.send_text("wecom:hr1", "第 1 份汇总", dedupe_key="digest-1")  # a retry after a crash
    assert first and len(fake.messages_to("hr1")) == 1
    await digests.send_text("wecom:hr1", "第 1 份汇总")  # without a key it is a new message
    assert len(fake.messages_to("hr1")) == 2


async def test_group_chats_and_errors(fake, digests):
    fake.group_chats.add("lankaohr")
    await digests.send_text("wecom:group:lankaohr", "汇总")
    assert fake.messages_to("group:lankaohr")[0].text == "汇总"
    with pytest.raises(Rejected):
        await digests.send_text("wecom:group:unknown", "汇总")
    with pytest.raises(Rejected):
        await digests.edit_text("wecom:hr1", "1", "x")
    fake.fail_next("message/send", 45009, 45009)
    with pytest.raises(Unreachable):
        await digests.send_text("wecom:hr1", "汇总")
    assert digests.fits("字" * 682) and not digests.fits("字" * 683)


# ---------------------------------------------------------------- group chats: at most once


@pytest.fixture
async def group_digests(fake, tmp_path):
    """Digests with group sends claimed in a database; requests give up after 0.3 s."""
    services = await open_services(wecom_settings(fake, tmp_path))
    fake.group_chats.add("lankaohr")
    async with aiohttp.ClientSession() as http:
        api = WeComAPI(http, fake.base_url, fake.corp_id, fake.app_secret, backoff=(0.01, 0.01, 0.01))
        api.timeout_s = 0.3
        yield WeComDigests(api, fake.agent_id, GroupSends(api, services.database)), services
    await services.close()


def group_texts(fake) -> list[str]:
    return [m.text for m in fake.messages_to("group:lankaohr")]


async def test_a_group_digest_whose_answer_times_out_is_sent_once_and_the_group_told(
    fake, group_digests, caplog
):
    caplog.set_level(logging.DEBUG, logger="bot")
    digests, _ = group_digests
    text = "【技能脱贫意愿汇总】兰考县 · 第 3 份\n本次新登记 2 条"
    fake.late_next("appchat/send", 1.0)  # WeCom carries the send out; its answer comes too late
    await digests.send_text(GROUP, text, dedupe_key="digest-3")
    await digests.send_text(GROUP, text, dedupe_key="digest-3")  # the worker's retry
    await digests.send_text(GROUP, text, dedupe_key="digest-3")
    sent = group_texts(fake)
    assert sent.count(text) == 1  # never twice, though WeCom has no duplicate check for groups
    (note,) = [t for t in sent if MAYBE_LOST in t]  # HR reads where the digest should be
    assert "兰考县 · 第 3 份" in note and "本次新登记" not in note
    assert [p for p, _ in fake.calls].count("appchat/send") == 2  # the digest and the note, no retry
    assert all("duplicate" not in str(m.body) for m in fake.messages_to("group:lankaohr"))
    assert "outcome unknown" in caplog.text and "兰考县" not in caplog.text and "登记" not in caplog.text


async def test_a_group_send_claimed_by_a_process_that_died_is_not_repeated(fake, group_digests):
    digests, services = group_digests
    await digests.send_text(GROUP, "第 1 份", dedupe_key="digest-1")
    await digests.send_text(GROUP, "第 1 份", dedupe_key="digest-1")  # sent and recorded: dropped
    assert group_texts(fake) == ["第 1 份"]
    # A process claimed digest 2 and died during the request: whether it went out is unknown.
    digest = hashlib.sha256(b"lankaohr\x1fdigest-2").hexdigest()
    async with services.database.session() as session:
        await wecom_groups.claim(session=session, digest=digest, now=0.0)
    await digests.send_text(GROUP, "第 2 份", dedupe_key="digest-2")
    assert "第 2 份" not in group_texts(fake) and MAYBE_LOST in group_texts(fake)[-1]


async def test_a_group_send_wecom_refused_may_be_tried_again(fake, group_digests):
    digests, _ = group_digests
    fake.fail_next("appchat/send", 40058)  # refused for sure: nothing reached the group
    with pytest.raises(Rejected):
        await digests.send_text(GROUP, "第 4 份", dedupe_key="digest-4")
    fake.fail_next("appchat/send", 45009, 45009, 45009, 45009)  # limits without end: not sent either
    with pytest.raises(Unreachable):
        await digests.send_text(GROUP, "第 4 份", dedupe_key="digest-4")
    await digests.send_text(GROUP, "第 4 份", dedupe_key="digest-4")
    assert group_texts(fake) == ["第 4 份"]


async def test_the_worker_sends_a_group_its_digest_once_when_the_answer_is_lost(fake, tmp_path):
    settings = wecom_settings(fake, tmp_path, digest_min_records=1)
    fake.group_chats.add("lankaohr")
    services = await open_services(settings)
    try:
        await two_records_for(services, GROUP)
        async with wecom_bot(fake, settings, services) as channel:
            assert channel.app_api is not None
            channel.app_api.timeout_s = 0.5
            fake.late_next("appchat/send", 1.5)  # the digest's content: done, the answer lost
            await drain_delivery(settings, services.digests)
            await drain_delivery(settings, services.digests)
    finally:
        await services.close()
    messages = fake.messages_to("group:lankaohr")
    digests_sent = [m for m in messages if m.msgtype == "text" and "本次新登记 2 条" in m.text]
    assert len(digests_sent) == 1
    assert sum(MAYBE_LOST in m.text for m in messages) == 1
    kinds = [m.msgtype for m in messages]
    assert kinds.count("file") == 1 and kinds.count("image") == 1
