"""End to end: the WeCom app and 微信客服 against the fake WeCom (real crypto on every callback)."""

from __future__ import annotations

import pytest

from tests.fakewecom import FakeWeCom
from tests.wecom_harness import member_press, member_says, wecom_bot, wecom_settings

MEMBER = "zhangsan"


@pytest.fixture
async def fake():
    async with FakeWeCom() as server:
        yield server


async def test_url_verification_and_forged_callbacks(fake, tmp_path):
    async with wecom_bot(fake, wecom_settings(fake, tmp_path)):
        answer = await fake.verify_url()
        assert answer.status == 200
        assert (await fake.verify_url(fake.kf_path)).status == 200
        forged = await fake.post_raw(b"<xml><Encrypt>QUJD</Encrypt></xml>", {"msg_signature": "0" * 40,
                                     "timestamp": "1", "nonce": "2"}, fake.app_path)  # fmt: skip
        assert forged.status == 403
    assert fake.menus and [b.get("key") for b in fake.menus[0]["button"]][:2] == ["menu", "check"]


async def test_member_start_and_explainer_with_cards(fake, tmp_path):
    async with wecom_bot(fake, wecom_settings(fake, tmp_path)):
        welcome, menu = await member_says(fake, MEMBER, "/start", expect=2)
        assert "政策小助手" in welcome.text
        assert menu.msgtype == "template_card" and menu.buttons[0][1] == "了解政策"
        (topics, *_) = await member_press(fake, MEMBER, "explain", expect=2)
        assert topics.msgtype == "template_card"
        await fake.wait_until(lambda: len(fake.card_updates) == 1)
        assert fake.card_updates[0]["button"]["replace_name"] == "✓ 了解政策"
