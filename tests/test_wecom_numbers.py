"""WeChat's 微工作台 shows no template cards: with WECOM_APP_CHOICES=text the app numbers its choices, and a
typed number presses that choice (in card mode too, as a fallback); where an answer is typed, a number
stays the answer."""

from __future__ import annotations

import re

import pytest

from bot.channels.wecom.render import TEXT_LIMIT_BYTES, numbered_text
from content.i18n import Rendered, Translator
from tests.fakewecom import FakeWeCom
from tests.wecom_harness import Member, wecom_bot, wecom_settings

USER = "wangwu"


@pytest.fixture
async def fake():
    async with FakeWeCom() as server:
        yield server


def number_of(text: str, label: str) -> str:
    """The number a numbered text gives a label."""
    found = re.search(rf"^(\d+)、{re.escape(label)}$", text, re.MULTILINE)
    assert found, f"{label!r} is not numbered in {text!r}"
    return found.group(1)


async def test_text_mode_numbers_the_choices_and_a_typed_number_presses_them(fake, tmp_path):
    settings = wecom_settings(fake, tmp_path, wecom_app_choices="text")
    async with wecom_bot(fake, settings) as channel:
        member = Member(fake, channel, USER)
        welcome = await member.says("/start")
        assert {m.msgtype for m in welcome} == {"text"}  # no card: 微工作台 would show nothing
        menu = welcome[-1].text
        assert "请回复数字选择" in menu
        topics = await member.says(number_of(menu, "了解政策"))
        assert {m.msgtype for m in topics} == {"text"}
        (tuition,) = await member.says(number_of(topics[-1].text, "学费和助学金"))
        assert "1700元" in tuition.text and "来源：豫人社〔2017〕57号" in tuition.text
        notice, repeated = await member.says("99")  # no such choice: said kindly, the question again
        assert notice.text == "请回复下面的数字来回答。"  # not "press the buttons below": there are none
        assert repeated.text == tuition.text
        for message in fake.messages_to(USER):
            assert len(message.text.encode()) <= TEXT_LIMIT_BYTES


async def test_in_card_mode_a_typed_number_presses_the_card_button_too(fake, tmp_path):
    async with wecom_bot(fake, wecom_settings(fake, tmp_path)) as channel:
        member = Member(fake, channel, USER)
        welcome = await member.says("/start")
        assert welcome[-1].msgtype == "template_card"
        first_label = welcome[-1].buttons[0][1]
        assert first_label == "了解政策"
        topics = await member.says("１")  # full width, as a Chinese keyboard may type it
        assert any("学费和助学金" in label for m in topics for _, label in m.buttons)


def test_a_typed_answer_offers_the_buttons_by_their_words_not_numbers():
    translator = Translator("zh_Hans")
    asked = Rendered("请输入年龄", (("p:3:back", "« 返回"), ("p:3:menu", "主菜单")), 3, False, typed=True)
    shown = numbered_text(translator, asked)
    assert shown == "请输入年龄\n\n也可以回复：« 返回 / 主菜单"
    chosen = Rendered("您想做什么？", (("p:1:explain", "了解政策"), ("p:1:check", "我能享受什么")), 1, False)
    assert numbered_text(Translator("en"), chosen).splitlines()[2:4] == ["1. 了解政策", "2. 我能享受什么"]
