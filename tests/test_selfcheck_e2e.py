"""End to end: the self-check (/check) by button presses, through the fake Bot API server."""

from __future__ import annotations

import pytest

from tests.fakebot import FakeBotAPI
from tests.telegram_harness import polling_bot, press, say, settings_for

USER = 5151
STUDENT = (
    "yes",
    "technical_school",
    "junior_stopped",
    "age_15_30",
    "technical_school",
    "yes",
    "yes",
    "year_1",
)


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
        # The channel's date is today, after 2020: first what to ask for now and where, then 2017 as history.
        now, history = summary.split("以前（2017年到2020年，已经结束）")
        assert "现在可以去问" in now and "雨露计划+" in now and "问学校或县人社局" in now
        assert "免学费：不用交学费，最多1700元（四（一））" in history
        assert "国家助学金：每年2000元（四（一））" in history
        assert "雨露计划扶贫助学补助：每年3000元（豫扶贫办〔2018〕21号）" in history
        assert "合计：5000元" in history
        assert "✅" not in summary
        # Skipped questions never reach the chat.
        assert not any("家在农村" in text or "能干活" in text for text in asked)
        assert len(asked) == 1 + len(STUDENT)
        (pick,) = await press(fake, USER, "details")
        assert pick.buttons[0] == ["❓ 免学费"]
        (detail,) = await press(fake, USER, "tuition_waiver")
        assert "要准备" in detail.text and "来源：豫人社〔2017〕57号 四（一）" in detail.text
        (intake,) = await press(fake, USER, "contact")  # "contact me" leads into the wish collection
        assert "谁在填" in intake.text


async def test_not_registered_is_still_pointed_to_yulu_plus_in_english(fake, tmp_path):
    async with polling_bot(settings_for(fake, tmp_path)):
        (first,) = await say(fake, USER, "/check", language_code="en")
        assert "registered poor household" in first.text
        (plan,) = await press(
            fake, USER, "no"
        )  # 雨露计划+ is for 脱贫 and monitored families: the plan matters
        assert "want to do" in plan.text
        (school,) = await press(fake, USER, "technical_school")
        (summary,) = await press(fake, USER, "vocational_high")
        assert "What you may ask for now" in summary.text and "Yulu Plan+" in summary.text
        assert "none of the notice's benefits fitted" in summary.text
        assert summary.buttons[-1] == ["« Back", "Menu"]
        (again,) = await press(fake, USER, "back")
        assert again.text == school.text
