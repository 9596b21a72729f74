"""End to end: the bot in long polling against the fake Bot API server on 127.0.0.1."""

from __future__ import annotations

import pytest

from tests.fakebot import FakeBotAPI
from tests.telegram_harness import button, polling_bot, press, say, settings_for

USER = 4242


@pytest.fixture
async def fake():
    async with FakeBotAPI() as server:
        yield server


async def test_start_explainer_and_original_clause(fake, tmp_path, bot_database_url):
    async with polling_bot(settings_for(fake, tmp_path, bot_database_url)):
        welcome, menu = await say(fake, USER, "/start", expect=2)
        assert "政策小助手" in welcome.text
        assert menu.buttons[0] == ["了解政策"]
        (topics,) = await press(fake, USER, "explain")
        assert "学费和助学金" in [row[0] for row in topics.buttons]
        (tuition,) = await press(fake, USER, "tuition")
        assert "1700元" in tuition.text and "来源：豫人社〔2017〕57号 四（一）" in tuition.text
        assert tuition.buttons[-1] == ["« 返回", "主菜单"]
        original, repeated = await press(fake, USER, "clause", expect=2)
        assert "免除技工院校全日制正式学籍建档立卡贫困家庭学生学费" in original.text
        assert repeated.text == tuition.text
        # The pressed message lost its buttons and shows the choice instead.
        pressed = fake.messages_to(USER)[-3]
        assert pressed.text.endswith("✓ 看原文") and not pressed.callback_data
    answers = fake.callback_answers
    assert len(answers) == 3
    commands = {code: [c["command"] for c in cmds] for code, cmds in fake.commands.items()}
    assert any("language" in names for names in commands.values())


async def test_commands_are_registered_in_both_languages(fake, tmp_path, bot_database_url):
    async with polling_bot(settings_for(fake, tmp_path, bot_database_url)):
        await say(fake, USER, "/start", expect=2)
    english = fake.commands_for(language_code="en")
    chinese = fake.commands_for(language_code="zh")
    assert [c["command"] for c in english] == [
        "start",
        "menu",
        "check",
        "intake",
        "help",
        "cancel",
        "language",
        "forget",
    ]
    assert english[1]["description"] == "Main menu" and chinese[1]["description"] == "主菜单"
    assert chinese[2]["description"] == "我能享受什么"


async def test_english_user_gets_english_and_can_switch(fake, tmp_path, bot_database_url):
    async with polling_bot(settings_for(fake, tmp_path, bot_database_url)):
        welcome, _ = await say(fake, USER, "/start", expect=2, language_code="en")
        assert welcome.text.startswith("Hello!")
        (question,) = await say(fake, USER, "/language")
        assert question.buttons == [["简体中文"], ["English"]]
        confirmed, menu = await press(fake, USER, "lang_zh_Hans", expect=2)
        assert "简体中文" in confirmed.text and menu.text == "您想做什么？"


async def test_restart_mid_dialog_continues_where_it_was(fake, tmp_path, bot_database_url):
    settings = settings_for(fake, tmp_path, bot_database_url)
    async with polling_bot(settings):
        await say(fake, USER, "/start", expect=2)
        await press(fake, USER, "explain")
    # The bot is down; the user presses the button on the last message meanwhile.
    fake.user_presses(USER, fake.last_message(USER), button(fake.last_message(USER), "tuition"))
    before = len(fake.messages_to(USER))
    async with polling_bot(settings):
        messages = await fake.wait_for_messages(USER, before + 1)
    assert "1700元" in messages[-1].text


async def test_stopping_lets_the_update_in_hand_finish(fake, tmp_path, bot_database_url):
    """Polling has moved Telegram's offset past an update in hand: cut off, it would never come again."""
    settings = settings_for(fake, tmp_path, bot_database_url)
    async with polling_bot(settings):
        await say(fake, USER, "/start", expect=2)
        fake.fail_next("sendMessage", delay=1.0)  # the reply is on its way when the bot is stopped
        before = len(fake.messages_to(USER))
        fake.user_presses(USER, fake.last_message(USER), button(fake.last_message(USER), "explain"))
        await fake.wait_for(lambda: fake.calls("answerCallbackQuery"), what="the press in hand")
    topics = (await fake.wait_for_messages(USER, before + 1))[-1]
    assert "学费和助学金" in [row[0] for row in topics.buttons]
    async with polling_bot(settings):  # the turn was saved: its buttons are the current ones
        (tuition,) = await press(fake, USER, "tuition")
    assert "1700元" in tuition.text


@pytest.mark.parametrize(
    ("send", "expected"),
    [
        (lambda fake: fake.user_sends_sticker(USER), "看不了图片"),
        (lambda fake: fake.user_sends_photo(USER), "看不了图片"),
        (lambda fake: fake.user_sends(USER, "   "), "请点下面的按钮"),
        (lambda fake: fake.user_sends(USER, "字" * 5000), "太长了"),
        (lambda fake: fake.user_sends(USER, "/frobnicate"), "这个命令我不认识"),
    ],
    ids=["sticker", "photo", "blank", "5000-chars", "unknown-command"],
)
async def test_bad_messages_get_a_friendly_reply_and_keep_the_step(
    fake, tmp_path, send, expected, bot_database_url
):
    async with polling_bot(settings_for(fake, tmp_path, bot_database_url)):
        await say(fake, USER, "/start", expect=2)
        await press(fake, USER, "explain")
        topics = fake.last_message(USER)
        before = len(fake.messages_to(USER))
        send(fake)
        notice, repeated = (await fake.wait_for_messages(USER, before + 2))[before:]
        assert expected in notice.text
        assert repeated.text == topics.text  # the same question again: nothing lost
        (tuition,) = await press(fake, USER, "tuition")
        assert "1700元" in tuition.text


async def test_stale_and_forged_buttons_are_refused_politely(fake, tmp_path, bot_database_url):
    async with polling_bot(settings_for(fake, tmp_path, bot_database_url)):
        await say(fake, USER, "/start", expect=2)
        menu = fake.last_message(USER)
        await press(fake, USER, "explain")
        before = len(fake.messages_to(USER))
        # A stale button: the menu's "explain" again, from the old message (check_button off:
        # the bot already removed that keyboard, but an old client can still send it).
        fake.user_presses(USER, menu, button(menu, "explain"), check_button=False)
        (repeated,) = (await fake.wait_for_messages(USER, before + 1))[before:]
        assert "过期" in fake.callback_answers[-1].get("text", "")
        assert "哪" in repeated.text or repeated.callback_data  # the current question is shown again
        # A forged callback string.
        fake.user_presses(USER, fake.last_message(USER), "p:not-a-number:x", check_button=False)
        (again,) = (await fake.wait_for_messages(USER, before + 2))[before + 1 :]
        assert again.text == repeated.text
        assert "看不懂" in fake.callback_answers[-1].get("text", "")
        (tuition,) = await press(fake, USER, "tuition")
        assert "1700元" in tuition.text


async def test_double_tap_applies_once(fake, tmp_path, bot_database_url):
    async with polling_bot(settings_for(fake, tmp_path, bot_database_url)):
        await say(fake, USER, "/start", expect=2)
        menu = fake.last_message(USER)
        data = button(menu, "explain")
        fake.user_presses(USER, menu, data)
        fake.user_presses(USER, menu, data, check_button=False)
        await fake.wait_for(lambda: len(fake.callback_answers) >= 2)
        await fake.wait_idle()
    texts = [m.text for m in fake.messages_to(USER)]
    assert sum("您想了解" in (t or "") or "哪方面" in (t or "") for t in texts) <= 2
    assert "过期" in fake.callback_answers[-1].get("text", "")
