"""Draft reminders: once, after a day of silence, with a controllable clock."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core.drafts import remind_drafts
from bot.core.sealing import seal, unseal
from bot.core.services import open_services
from bot.core.settings import load_settings
from dialogs.model import State

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
async def services(tmp_path):
    opened = await open_services(load_settings(data_dir=tmp_path, bot_token=None))
    yield opened
    await opened.close()


async def store(services, key: str, state: State, at: dt.datetime) -> None:
    """Write a conversation as if its last update happened at `at`."""
    async with services.conversations.open(key) as slot:
        slot.save(state.to_json())
    await store_time(services, key, at)


async def store_time(services, key: str, at: dt.datetime) -> None:
    """Stamp a conversation's last update."""
    # The store stamps the real time; move it back to the simulated one.
    async with services.database.session() as session:
        from sqlalchemy import text

        await session.exec(text("UPDATE conversation SET updated_at = :t WHERE key = :k"),
                           params={"t": at.timestamp(), "k": key})  # fmt: skip
        await session.commit()


def draft(last_day: str, **data) -> State:
    """A half-done intake whose last input came on `last_day`."""
    return State(flow="intake", step="head_name", seq=7, answers={"village": "410225101201"},
                 data={"today": last_day, **data})  # fmt: skip


async def test_idle_draft_is_reminded_once(services):
    await store(services, "tg:1", draft("2026-11-18"), NOW - dt.timedelta(days=2))
    sent = []

    async def send(key, replies, lang):
        sent.append((key, [r.key for r in replies], lang))
        return True

    services.outbound.register("tg", send)
    assert await remind_drafts(services, now=NOW) == 1
    assert sent == [("tg:1", ["drafts.reminder", "core.resume"], "zh_Hans")]
    async with services.conversations.open("tg:1") as slot:
        assert "410225101201" not in slot.state  # answers stay sealed at rest
        state = unseal(slot.state, services.cipher, "zh_Hans")
    assert state.mode == "resume" and state.answers == {"village": "410225101201"}  # nothing lost
    assert await remind_drafts(services, now=NOW + dt.timedelta(days=1)) == 0  # only once


async def test_a_draft_kept_aside_while_in_the_menu_is_reminded_and_brought_back(services):
    kept = draft("2026-11-18")
    kept_intake = {"step": "h_name", "answers": kept.answers, "history": ["who"]}
    aside = State(flow="menu", step="main", seq=9, data=kept.data, drafts={"intake": kept_intake})
    async with services.conversations.open("tg:4") as slot:
        slot.save(seal(aside, services.cipher))
    await store_time(services, "tg:4", NOW - dt.timedelta(days=2))
    sent = []

    async def send(key, replies, lang):
        sent.append((key, [r.key for r in replies]))
        return True

    services.outbound.register("tg", send)
    assert await remind_drafts(services, now=NOW) == 1
    assert sent == [("tg:4", ["drafts.reminder", "core.resume"])]
    async with services.conversations.open("tg:4") as slot:
        assert "410225101201" not in slot.state  # a kept draft is sealed too
        state = unseal(slot.state, services.cipher, "zh_Hans")
    assert (state.flow, state.step, state.mode, state.drafts) == ("intake", "h_name", "resume", {})
    assert state.answers == {"village": "410225101201"} and state.history == ["who"]


async def test_fresh_drafts_other_flows_and_console_are_left_alone(services):
    await store(services, "tg:2", draft("2026-11-20"), NOW - dt.timedelta(hours=2))
    await store(services, "tg:3", State(flow="explain", step="topics", data={"today": "2026-11-01"}),
                NOW - dt.timedelta(days=19))  # fmt: skip
    await store(services, "console:local", draft("2026-11-01"), NOW - dt.timedelta(days=19))

    async def send(key, replies, lang):
        raise AssertionError(f"nothing should be sent, got {key}")

    services.outbound.register("tg", send)
    assert await remind_drafts(services, now=NOW) == 0


async def test_an_undelivered_reminder_is_tried_again(services):
    await store(services, "tg:4", draft("2026-11-18"), NOW - dt.timedelta(days=2))
    answers = [False, True]

    async def send(key, replies, lang):
        return answers.pop(0)

    services.outbound.register("tg", send)
    assert await remind_drafts(services, now=NOW) == 0  # the channel could not deliver it
    async with services.conversations.open("tg:4") as slot:
        assert "reminded" not in State.from_json(slot.state).data
    assert await remind_drafts(services, now=NOW + dt.timedelta(hours=1)) == 1
