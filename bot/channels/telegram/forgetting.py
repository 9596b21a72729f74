"""/forget in the chat itself: the bot's own messages that showed the person's data go too.

While a chat is in a flow that shows personal data (the intake's member cards and review), the
ids of the messages the bot sends are remembered (storage.repositories.sent_messages, ids and
times only). When /forget has run, those Telegram still lets the bot delete (48 hours) are
deleted; older ones cannot be, which the PIPL notice in SECURITY.md says.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError

from bot.core.services import Services
from dialogs.model import Reply, State
from storage.repositories import sent_messages

SHOWS_DATA = frozenset({"intake"})  # flows whose messages show names and (masked) numbers
FORGOTTEN = frozenset({"forget.done", "forget.nothing", "forget.staff"})  # /forget has run


async def send_and_track(
    services: Services, bot: Bot, chat_id: int, key: str, state: State, replies: list[Reply],
    send: Callable[[], Awaitable[list[int]]],
) -> None:  # fmt: skip
    """Send the replies (`send` gives the new message ids), then remember them or delete the old ones."""
    sent = await send()
    now = time.time()
    if any(reply.key in FORGOTTEN for reply in replies):
        await _delete_shown(services, bot, chat_id, key, now)
    elif state.flow in SHOWS_DATA and sent:
        async with services.database.session() as session:
            await sent_messages.record(session=session, channel_key=key, message_ids=sent, now=now)


async def _delete_shown(services: Services, bot: Bot, chat_id: int, key: str, now: float) -> None:
    """Delete the chat's remembered messages that are still deletable."""
    async with services.database.session() as session:
        shown = await sent_messages.take_deletable(session=session, channel_key=key, now=now)
    for message_id in shown:
        with contextlib.suppress(TelegramBadRequest, TelegramForbiddenError):  # gone already, or blocked
            await bot.delete_message(chat_id, message_id)
