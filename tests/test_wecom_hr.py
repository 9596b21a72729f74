"""County HR in the WeCom app; households in 微信客服 told of the follow-up inside and outside the window."""

from __future__ import annotations

import pytest
from sqlmodel import select

from storage.models_channels import HouseholdNotice
from tests.fakewecom import FakeWeCom
from tests.hr_support import COUNTY_A, VILLAGE_A, submission, submit
from tests.wecom_harness import Customer, Member, hr_member_services, settle, wecom_bot, wecom_settings

HR = "hr_lankao"
FAMILY = "wmHousehold01"


@pytest.fixture
async def fake():
    async with FakeWeCom() as server:
        yield server


@pytest.fixture
async def services(fake, tmp_path):
    settings = wecom_settings(fake, tmp_path)
    async with hr_member_services(settings, HR, COUNTY_A) as opened:
        yield settings, opened


async def a_household_of_its_own(services, family: str) -> None:
    """A household that registered itself through 微信客服 (so it is told of the follow-up)."""
    data = submission(VILLAGE_A, "赵大山", "赵小花", 7, answered_by="household")
    await submit(services.database, services.cipher, data, who=f"wxkf:{family}")


async def waiting_notices(services) -> int:
    """Household notices not delivered yet."""
    async with services.database.session() as session:
        return len((await session.exec(select(HouseholdNotice))).all())


async def test_summary_pending_with_card_buttons_and_export(fake, services):
    settings, opened = services
    await submit(opened.database, opened.cipher, submission(VILLAGE_A, "王建国", "王小明", 1))
    async with wecom_bot(fake, settings, opened) as channel:
        hr = Member(fake, channel, HR)
        (summary,) = await hr.says("/summary")
        assert "堌阳镇" in summary.text
        pending = await hr.says("/pending")
        cards = [m for m in pending if m.msgtype == "template_card"]
        assert cards and all(len(c.buttons) <= 6 for c in cards)
        status_ids = [key.split("|")[0] for key, _ in cards[0].buttons]
        assert all(i.startswith("h:s:") for i in status_ids)
        saved = await hr.press(status_ids[0])
        assert fake.card_updates[-1]["button"]["replace_name"]  # the pressed card is greyed out
        assert any("备注" in m.text for m in saved)  # the status and the note prompt, as a new message
        note_prompt = next(m for m in saved if m.msgtype == "template_card")
        assert (await hr.says("电话打通了，下周面试"))[0].text  # the note is taken
        assert note_prompt.buttons[0][0].startswith("h:n:")
        await hr.says("/export")
        await settle(channel)
        files = [m for m in fake.messages_to(HR) if m.msgtype == "file"]
        assert len(files) == 1 and fake.uploads[-1]["size"] > 0 and fake.uploads[-1]["type"] == "file"
        stranger = Member(fake, channel, "someone_else")
        (refused,) = await stranger.says("/summary")
        assert "堌阳镇" not in refused.text


async def test_follow_up_reaches_a_household_inside_its_window_and_waits_outside(fake, services):
    settings, opened = services
    await a_household_of_its_own(opened, FAMILY)
    async with wecom_bot(fake, settings, opened) as channel:
        family = Customer(fake, channel, FAMILY)
        await family.says("/menu")  # the household wrote: its window is open
        hr = Member(fake, channel, HR)
        pending = await hr.says("/pending")
        card = next(m for m in pending if m.msgtype == "template_card")
        contacted = next(
            key.split("|")[0] for key, _ in card.buttons if key.split("|")[0].endswith(":contacted")
        )
        before = len(fake.messages_to(FAMILY))
        await hr.press(contacted)
        await settle(channel)
        told = fake.messages_to(FAMILY)[before:]
        assert len(told) == 1 and "跟进" in told[0].text and told[0].via == "kf"
        # Two days later the window is closed: the next news waits, and HR sees it.
        fake.advance(49 * 3600)
        enrolled = contacted.replace(":contacted", ":enrolled")
        await hr.says("/menu")  # leave the note prompt
        await hr.press(enrolled)
        await settle(channel)
        assert len(fake.messages_to(FAMILY)) == before + 1
        assert await waiting_notices(opened) == 1  # HR sees "not told yet" while it exists
        # The household writes again: the news goes out first, then the answer.
        after = await family.says("/menu")
        assert "好消息" in after[0].text
        assert await waiting_notices(opened) == 0
        assert not [code for path, code in fake.calls if path == "kf/send_msg" and code]
