"""County HR through the running bot (long polling, fake Bot API): group commands and follow-up."""

from __future__ import annotations

import pytest

from bot.core.settings import load_settings
from storage import migrate
from storage.crypto import Cipher
from storage.db import Database
from tests.fakebot import FakeBotAPI
from tests.hr_support import GROUP_A, HR_A, STRANGER, VILLAGE_A, staff, submission, submit
from tests.telegram_harness import TEST_DATA_KEY, polling_bot, say, settings_for


@pytest.fixture
async def fake():
    async with FakeBotAPI() as server:
        yield server


async def prepare(tmp_path) -> None:
    """A migrated database with HR staff, their group, and one household's wish."""
    settings = load_settings(data_dir=tmp_path, bot_token=None, data_key=TEST_DATA_KEY)
    await migrate.upgrade_async(settings.db_url)
    db = Database.from_url(settings.db_url)
    try:
        await staff(db)
        await submit(
            db, Cipher.from_secret(settings.cipher_secrets()), submission(VILLAGE_A, "王建国", "王小明", 1)
        )
    finally:
        await db.dispose()


async def test_hr_group_summary_and_refusal_through_the_bot(fake, tmp_path):
    await prepare(tmp_path)
    fake.add_chat(GROUP_A, title="兰考县人社局")
    async with polling_bot(settings_for(fake, tmp_path)):
        before = len(fake.messages_to(GROUP_A))
        fake.user_sends(HR_A, "/summary", chat_id=GROUP_A)
        summary = (await fake.wait_for_messages(GROUP_A, before + 1))[-1]
        assert "堌阳镇" in summary.text  # the township of the household's village
        fake.user_sends(STRANGER, "/summary", chat_id=GROUP_A)
        await fake.wait_for(
            lambda: any("堌阳镇" not in (m.text or "") and m.message_id > summary.message_id
                        for m in fake.messages_to(GROUP_A) if "提醒" not in (m.text or ""))
        )  # fmt: skip
        fake.user_sends(HR_A, "/start", chat_id=GROUP_A)  # dialogs are for private chats only
        (welcome, _menu) = await say(fake, 5555, "/start", expect=2)  # private dialogs still work
        assert "政策小助手" in welcome.text
    group_texts = [m.text or "" for m in fake.messages_to(GROUP_A)]
    assert not any("政策小助手" in text for text in group_texts)  # /start in the group got no dialog
