"""Webhook mode: Telegram's secret token is checked; a good update gets the same dialog."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import aiohttp

from bot.channels.telegram.app import run_webhook
from bot.core.settings import load_settings
from tests.fakebot import FakeBotAPI
from tests.telegram_harness import TEST_DATA_KEY

USER = 5151


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_update(update_id: int) -> dict:
    """A /start message from a private chat, shaped as Telegram posts it."""
    user = {"id": USER, "is_bot": False, "first_name": "李强", "language_code": "zh-hans"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1, "date": 1764000000, "chat": {"id": USER, "type": "private"},
            "from": user, "text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }  # fmt: skip


WEBHOOK_SECRET = "s3cret-token-0123456789-abcdef"


async def test_webhook_checks_secret_and_answers(tmp_path):
    async with FakeBotAPI() as fake:
        fake.add_chat(USER, first_name="李强")  # Telegram knows the chat; the update reaches us by webhook
        port = free_port()
        settings = load_settings(
            bot_token=fake.token, telegram_api_url=fake.base_url, data_dir=tmp_path,
            webhook_url="https://bot.example.org", webhook_secret=WEBHOOK_SECRET, webhook_port=port,
            data_key=TEST_DATA_KEY,
        )  # fmt: skip
        ready = asyncio.Event()
        task = asyncio.create_task(run_webhook(settings, ready=ready))
        await asyncio.wait_for(ready.wait(), 30)
        try:
            assert fake.webhook["url"] == "https://bot.example.org/telegram/webhook"
            url = f"http://127.0.0.1:{port}/telegram/webhook"
            async with aiohttp.ClientSession() as http:
                wrong = await http.post(
                    url, json=start_update(1), headers={"X-Telegram-Bot-Api-Secret-Token": "no"}
                )
                assert wrong.status == 401
                good = await http.post(
                    url, json=start_update(2), headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
                )
                assert good.status == 200
            welcome, menu = await fake.wait_for_messages(USER, 2)
            assert "政策小助手" in welcome.text and menu.buttons[0] == ["了解政策"]
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
