"""Run the bot the way `outreach run` does (long polling), against the fake Bot API."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from bot.channels.telegram.app import run_polling
from bot.core.settings import Settings, load_settings
from tests.fakebot import FakeBotAPI, SentMessage

TEST_DATA_KEY = "telegram-test-data-key-0123456789-abcdefghij"


def settings_for(fake: FakeBotAPI, data_dir: Path, database_url: str | None = None) -> Settings:
    """Settings pointing the bot at the fake server and a test database."""
    return load_settings(
        bot_token=fake.token, telegram_api_url=fake.base_url, data_dir=data_dir, database_url=database_url,
        data_key=TEST_DATA_KEY,
    )  # fmt: skip


@contextlib.asynccontextmanager
async def polling_bot(settings: Settings) -> AsyncIterator[None]:
    """Start `run_polling` in a task, wait until it polls, stop it on exit."""
    ready = asyncio.Event()
    task = asyncio.create_task(run_polling(settings, ready=ready))
    done, _ = await asyncio.wait({task, asyncio.create_task(ready.wait())}, timeout=30,
                                 return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
    if task in done:
        task.result()  # start-up failed: raise its error here
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def button(message: SentMessage, choice_id: str) -> str:
    """The callback data of the button for `choice_id` on a message."""
    for data in message.callback_data:
        if data.rsplit(":", 1)[-1] == choice_id:
            return data
    raise AssertionError(f"no button {choice_id!r} on message {message.text!r}: {message.callback_data}")


async def press(fake: FakeBotAPI, user_id: int, choice_id: str, expect: int = 1) -> list[SentMessage]:
    """Press a button on the bot's last message; wait for `expect` new messages and return them."""
    before = len(fake.messages_to(user_id))
    fake.user_presses(user_id, fake.last_message(user_id), button(fake.last_message(user_id), choice_id))
    messages = await fake.wait_for_messages(user_id, before + expect)
    return messages[before:]


async def say(fake: FakeBotAPI, user_id: int, text: str, expect: int = 1, **kwargs) -> list[SentMessage]:
    """Send a text; wait for `expect` new messages and return them."""
    before = len(fake.messages_to(user_id))
    fake.user_sends(user_id, text, **kwargs)
    messages = await fake.wait_for_messages(user_id, before + expect)
    return messages[before:]
