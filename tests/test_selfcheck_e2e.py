"""End to end: the self-check (/check) by button presses, through the fake Bot API server."""

from __future__ import annotations

import pytest

from tests.fakebot import FakeBotAPI
from tests.telegram_harness import polling_bot, press, say, settings_for

USER = 5151
STUDENT = ("yes", "technical_school", "junior_stopped", "technical_school", "yes", "yes", "year_1")


@pytest.fixture
async def fake():
    async with FakeBotAPI() as server:
        yield server


async def test_student_self_check_by_buttons(fake, tmp_path):
    async with polling_bot(settings_for(fake, tmp_path)):
        (first,) = await say(fake, USER, "/check")
        assert "建档立卡贫困户吗" in first.text
        assert first.buttons[:3] == [["是"], ["不是"], ["不清楚"]]
        asked = [first.text]
        for choice_id in STUDENT:
            (message,) = await press(fake, USER, choice_id)
            asked.append(message.text)
        summary = asked[-1]
        assert "免学费：每年最多1,700元（四（一））" in summary
        assert "国家助学金：每年2,000元（四（一））" in summary
        assert "雨露计划扶贫助学补助：每年3,000元（四（二））" in summary
        assert "合计：每年6,700元" in summary
        assert "已经结束" in summary  # the channel's date is today, after 2020
        # Skipped questions never reach the chat.
        assert not any("多大了" in text or "家在农村" in text or "能干活" in text for text in asked)
        assert len(asked) == 1 + len(STUDENT)
        (pick,) = await press(fake, USER, "details")
        assert pick.buttons[0] == ["✅ 免学费"]
        (detail,) = await press(fake, USER, "tuition_waiver")
        assert "要准备" in detail.text and "来源：豫人社〔2017〕57号 四（一）" in detail.text
        (intake,) = await press(fake, USER, "contact")  # "contact me" leads into the wish collection
        assert "谁在填" in intake.text


async def test_not_poor_goes_straight_to_the_summary_in_english(fake, tmp_path):
    async with polling_bot(settings_for(fake, tmp_path)):
        (first,) = await say(fake, USER, "/check", language_code="en")
        assert "registered poor household" in first.text
        (summary,) = await press(fake, USER, "no")
        assert "none of this notice's benefits applies" in summary.text
        assert summary.buttons[-1] == ["« Back", "Menu"]
        (again,) = await press(fake, USER, "back")
        assert again.text == first.text
