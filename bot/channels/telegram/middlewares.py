"""The per-update middleware: one DB session, the user's conversation row, their language.

Replies are sent only after the conversation row is committed (handlers put them in
`data["after_commit"]`), in long polling as with the webhook: an update fetched again after a
crash is then either not applied yet (and answered once, when it is) or skipped as applied.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from bot.core.flood import FloodGate, Verdict
from bot.core.services import Services
from content.i18n import Translator, language_from_telegram
from dialogs.model import DEFAULT_LANGUAGE

REDELIVERY_WINDOW_S = 24 * 3600


def already_applied(update_id: int | None, last: int | None, written: float | None, now: float) -> bool:
    """True when this update, or a later one of the same user, was applied already.

    Polling after a crash fetches a whole batch again, so an id below the last applied one is a
    redelivery too. Telegram keeps an update 24 hours at most and may restart its ids after a
    week without updates, so an old `last` no longer says anything.
    """
    if update_id is None or last is None or update_id > last:
        return False
    return update_id == last or (written is not None and now - written < REDELIVERY_WINDOW_S)


def conversation_key(update: Update) -> tuple[str, Any] | None:
    """The key of the private chat an update belongs to, and its sender; None for other updates."""
    if update.message is not None and update.message.chat.type == "private":
        return f"tg:{update.message.chat.id}", update.message.from_user
    if update.callback_query is not None:
        message = update.callback_query.message
        if message is None or message.chat.type == "private":
            return f"tg:{update.callback_query.from_user.id}", update.callback_query.from_user
    return None


class ConversationMiddleware(BaseMiddleware):
    """Open the session and lock the user's conversation row for the whole update."""

    def __init__(self, services: Services, flood: FloodGate | None = None) -> None:
        self.services = services
        self.flood = flood or FloodGate()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return None
        found = conversation_key(event)
        if found is None:
            return await self._outside_dialogs(handler, event, data)
        key, sender = found
        verdict = self.flood.admit(key, time.monotonic())
        if verdict is not Verdict.PASS:
            if verdict is Verdict.WARN:  # once; the rest of the flood goes unanswered
                lang = language_from_telegram(getattr(sender, "language_code", None))
                await data["bot"].send_message(
                    int(key.partition(":")[2]), Translator(lang).text("core.slow_down")
                )
            return None
        with self.flood.waiting(key):
            return await self._in_turn(handler, event, data, key, sender)

    async def _in_turn(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: Update,
        data: dict[str, Any],
        key: str,
        sender: Any,
    ) -> Any:
        """The update applied under the user's row lock; its replies sent once it is committed."""
        after_commit: list[Callable[[], Awaitable[Any]]] = []
        async with self.services.conversations.open(key) as slot:
            if already_applied(event.update_id, slot.last_update_id, slot.updated_at, time.time()):
                return None  # Telegram delivered this update (or an earlier one) again
            async with self.services.database.session() as session:
                data.update(
                    slot=slot,
                    session=session,
                    key=key,
                    default_lang=language_from_telegram(getattr(sender, "language_code", None)),
                    after_commit=after_commit,
                )
                result = await handler(event, data)
        for send in after_commit:  # the row is committed now
            await send()
        return result

    async def _outside_dialogs(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: Update,
        data: dict[str, Any],
    ) -> Any:
        """Group chats (county HR offices): a session for their commands, no conversation row."""
        if event.message is None and event.callback_query is None:
            return None  # other update kinds are not handled
        async with self.services.database.session() as session:
            data.update(slot=None, session=session, key=None, default_lang=DEFAULT_LANGUAGE)
            return await handler(event, data)
