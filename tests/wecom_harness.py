"""Run the WeCom channels the way `outreach run` does (their routes in an aiohttp app), against FakeWeCom."""

from __future__ import annotations

import asyncio
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
    if channel.group_sends is not None:
        channel.group_sends.clock = fake.now
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


@contextlib.asynccontextmanager
async def hr_member_services(settings: Settings, hr: str, county: str) -> AsyncIterator[Services]:
    """Services of a bot in which the WeCom member `hr` is county HR of `county`."""
    from storage.repositories.access import grant

    opened = await open_services(settings)
    try:
        async with opened.database.session() as session:
            await grant(session=session, channel_key=f"wecom:{hr}", role="hr", scopes=[("county", county)])
            await session.commit()
        yield opened
    finally:
        await opened.close()


async def settle(channel: WeComChannel, timeout: float = 10) -> None:
    """Wait until the channel has sent everything that is due."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    reader = channel.kf_reader
    while (reader is not None and reader.reading()) or not await channel.outbox.idle():
        assert loop.time() < deadline, "the WeCom outbox did not settle"
        await asyncio.sleep(0.01)


class Member:
    """A WeCom member (the app) driving the bot through the fake: each action returns the new messages."""

    def __init__(self, fake: FakeWeCom, channel: WeComChannel, user: str) -> None:
        self.fake, self.channel, self.user = fake, channel, user
        self.presses = 0

    async def _after(self, action: Any) -> list[Sent]:
        before = len(self.fake.messages_to(self.user))
        answer = await action
        assert answer.status == 200 and answer.seconds < 5, answer
        await settle(self.channel)
        return self.fake.messages_to(self.user)[before:]

    async def says(self, text: str) -> list[Sent]:
        """Type a message."""
        return await self._after(self.fake.member_sends(self.user, text))

    async def press(self, *choice_ids: str) -> list[Sent]:
        """Press buttons one after the other (each on the latest card with it); the last press's messages."""
        messages: list[Sent] = []
        for choice_id in choice_ids:
            card = latest_with(self.fake, self.user, choice_id, "template_card")
            self.presses += 1
            messages = await self._after(self.fake.member_presses(self.user, card, choice_id))
        return messages


class Customer(Member):
    """A 微信客服 customer (ordinary WeChat)."""

    async def enters(self, scene_param: str = "", welcome: bool = True) -> list[Sent]:
        """Open the chat, e.g. from a poster."""
        return await self._after(self.fake.customer_enters(self.user, scene_param, welcome))

    async def says(self, text: str) -> list[Sent]:
        """Type a message."""
        return await self._after(self.fake.customer_sends(self.user, text))

    async def press(self, *choice_ids: str) -> list[Sent]:
        """Tap menu items one after the other."""
        messages: list[Sent] = []
        for choice_id in choice_ids:
            menu = latest_with(self.fake, self.user, choice_id, "msgmenu")
            messages = await self._after(self.fake.customer_taps(self.user, menu, choice_id))
        return messages


def latest_with(fake: FakeWeCom, user: str, choice_id: str, msgtype: str) -> Sent:
    """The latest card or menu carrying a button for `choice_id` (a long list spans several)."""
    for message in reversed(fake.messages_to(user)):
        ids = [key.split("|")[0] for key, _ in message.buttons]
        if message.msgtype == msgtype and any(i == choice_id or i.split(":")[-1] == choice_id for i in ids):
            return message
    raise AssertionError(
        f"no {msgtype} with {choice_id!r} for {user}: {[m.text for m in fake.messages_to(user)]}"
    )


def texts(messages: list[Sent]) -> str:
    """Every message's text, joined."""
    return "\n".join(m.text for m in messages)
