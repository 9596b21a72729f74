"""End to end: the WeCom app and 微信客服 against the fake WeCom (real crypto on every callback)."""

from __future__ import annotations

import asyncio

import pytest

from tests.fakewecom import FakeWeCom
from tests.wecom_harness import Member, wecom_bot, wecom_settings

MEMBER = "zhangsan"


@pytest.fixture
async def fake():
    async with FakeWeCom() as server:
        yield server


async def test_url_verification_and_forged_callbacks(fake, tmp_path):
    async with wecom_bot(fake, wecom_settings(fake, tmp_path)):
        await fake.wait_until(lambda: bool(fake.menus))  # set at start-up, in the background
        answer = await fake.verify_url()
        assert answer.status == 200
        assert (await fake.verify_url(fake.kf_path)).status == 200
        forged = await fake.post_raw(b"<xml><Encrypt>QUJD</Encrypt></xml>", {"msg_signature": "0" * 40,
                                     "timestamp": "1", "nonce": "2"}, fake.app_path)  # fmt: skip
        assert forged.status == 403
    assert fake.menus and [b.get("key") for b in fake.menus[0]["button"]][:2] == ["menu", "check"]


async def test_member_start_and_explainer_with_cards(fake, tmp_path):
    async with wecom_bot(fake, wecom_settings(fake, tmp_path)) as channel:
        member = Member(fake, channel, MEMBER)
        welcome, menu = await member.says("/start")
        assert "政策小助手" in welcome.text
        assert menu.msgtype == "template_card" and menu.buttons[0][1] == "了解政策"
        topics = await member.press("explain")
        # Twelve choices: split over cards of at most six, sharing the token; Back and Menu last.
        assert [m.msgtype for m in topics] == ["template_card", "template_card"]
        assert [len(m.buttons) for m in topics] == [6, 6]
        assert [label for _, label in topics[-1].buttons][-2:] == ["« 返回", "主菜单"]
        tuition, *_ = await member.press("tuition")
        assert fake.card_updates[0]["button"]["replace_name"] == "✓ 了解政策"
        assert "1700元" in tuition.text


async def test_outreach_run_serves_the_wecom_callbacks_beside_the_web_pages(fake, tmp_path):
    import os
    import subprocess

    from tests.test_cli import OUTREACH
    from tests.test_web_run import free_port
    from tests.web_support import WEB_KEY

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL", "TELEGRAM_API_URL"}}
    env.update(DATA_DIR=str(tmp_path), WEB_PORT=str(port), DATA_KEY=WEB_KEY)
    env.update({name.upper(): str(value) for name, value in fake.settings().items()})
    process = subprocess.Popen([str(OUTREACH), "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=tmp_path)  # fmt: skip
    try:
        lines = [await asyncio.to_thread(process.stdout.readline) for _ in range(2)]  # type: ignore[union-attr]
        assert lines[0].startswith("web chat:"), lines
        fake.bot_url = f"http://127.0.0.1:{port}"
        assert (await fake.verify_url()).status == 200
        assert (await fake.member_sends(MEMBER, "/start")).status == 200
        await fake.wait_for_messages(MEMBER, 2, timeout=30)
        assert "政策小助手" in fake.messages_to(MEMBER)[0].text
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert "Traceback" not in process.stderr.read()  # type: ignore[union-attr]
