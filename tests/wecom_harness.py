"""Run the WeCom channels the way `outreach run` does (their routes in an aiohttp app), against FakeWeCom."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.channels.wecom.channel import WeComChannel
from bot.channels.wecom.server import add_wecom_routes
from bot.core.services import Services, open_services
from bot.core.settings import Settings, load_settings
from tests.fakewecom import FakeWeCom, Sent

FAST_BACKOFF = (0.01, 0.02, 0.04)


def wecom_settings(
    fake: FakeWeCom, data_dir: Path, database_url: str | None = None, **extra: Any
) -> Settings:
    """Settings pointing the bot at the fake and a test database."""
    return load_settings(data_dir=data_dir, database_url=database_url, **fake.settings(), **extra)


@contextlib.asynccontextmanager
async def wecom_bot(
    fake: FakeWeCom, settings: Settings, services: Services | None = None
) -> AsyncIterator[WeComChannel]:
    """Serve the WeCom callbacks on 127.0.0.1 (the fake posts to them); the channel, on the fake's clock."""
    own_services = services is None
    services = services or await open_services(settings)
    app = web.Application()
    channel = add_wecom_routes(app, services, settings)
    assert channel is not None
    channel.outbox.clock = channel.dialogs.clock = fake.now
    for api in (channel.app_api, channel.kf_reader.api if channel.kf_reader else None):
        if api is not None:
            api.backoff = FAST_BACKOFF
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.bot_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    try:
        yield channel
    finally:
        await runner.cleanup()
        if own_services:
            await services.close()


async def said(fake: FakeWeCom, user: str, before: int, expect: int) -> list[Sent]:
    """Wait for `expect` messages after the first `before`; return the new ones."""
    messages = await fake.wait_for_messages(user, before + expect)
    return messages[before:]


async def member_says(fake: FakeWeCom, user: str, text: str, expect: int = 1) -> list[Sent]:
    """A member types; the bot's next `expect` messages."""
    before = len(fake.messages_to(user))
    answer = await fake.member_sends(user, text)
    assert answer.status == 200, answer
    return await said(fake, user, before, expect)


async def member_press(fake: FakeWeCom, user: str, choice_id: str, expect: int = 1) -> list[Sent]:
    """A member presses a button of the last card; the bot's next `expect` messages."""
    before = len(fake.messages_to(user))
    card = _card_with(fake, user, choice_id)
    answer = await fake.member_presses(user, card, choice_id)
    assert answer.status == 200, answer
    return await said(fake, user, before, expect)


def _card_with(fake: FakeWeCom, user: str, choice_id: str) -> Sent:
    """The latest card carrying a button for `choice_id` (a long list spans several cards)."""
    for message in reversed(fake.messages_to(user)):
        if message.msgtype == "template_card" and any(
            k.split(":")[2] == choice_id for k, _ in message.buttons
        ):
            return message
    raise AssertionError(f"no card with {choice_id!r} for {user}")


async def customer_says(fake: FakeWeCom, user: str, text: str, expect: int = 1) -> list[Sent]:
    """A 客服 customer types; the bot's next `expect` messages."""
    before = len(fake.messages_to(user))
    await fake.customer_sends(user, text)
    return await said(fake, user, before, expect)


async def customer_taps(fake: FakeWeCom, user: str, choice_id: str, expect: int = 1) -> list[Sent]:
    """A customer taps an item of the last menu carrying it."""
    before = len(fake.messages_to(user))
    for message in reversed(fake.messages_to(user)):
        if message.msgtype == "msgmenu" and any(k.split(":")[2] == choice_id for k, _ in message.buttons):
            await fake.customer_taps(user, message, choice_id)
            return await said(fake, user, before, expect)
    raise AssertionError(f"no menu with {choice_id!r} for {user}")
