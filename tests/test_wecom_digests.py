"""County HR digests through the WeCom app: the delivery worker's protocol for a channel without edit."""

from __future__ import annotations

import aiohttp
import pytest

from bot.channels.wecom.api import WeComAPI
from bot.channels.wecom.digests import WeComDigests
from bot.core.services import open_services
from bot.features.delivery.channel import Rejected, Unreachable
from bot.features.delivery.worker import drain_delivery
from storage.models import utc_now
from storage.repositories.hr_destinations import add_destination
from tests.fakewecom import FakeWeCom
from tests.hr_support import COUNTY_A, VILLAGE_A, submission, submit
from tests.wecom_harness import wecom_bot, wecom_settings


@pytest.fixture
async def fake():
    async with FakeWeCom() as server:
        yield server


@pytest.fixture
async def digests(fake):
    async with aiohttp.ClientSession() as http:
        api = WeComAPI(http, fake.base_url, fake.corp_id, fake.app_secret, backoff=(0.01,))
        yield WeComDigests(api, fake.agent_id)


async def test_a_digest_reaches_an_hr_member_with_its_spreadsheet_and_chart(fake, tmp_path):
    settings = wecom_settings(fake, tmp_path, digest_min_records=1)
    services = await open_services(settings)
    try:
        for serial in (1, 3):
            await submit(
                services.database, services.cipher, submission(VILLAGE_A, "王建国", "王小明", serial)
            )
        async with services.database.session() as session:
            await add_destination(session=session, county_code=COUNTY_A, chat_key="wecom:hr_lankao",
                                  added_by="cli:test", now=utc_now())  # fmt: skip
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
