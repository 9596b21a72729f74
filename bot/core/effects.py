"""What the bot does for the engine's events, beyond showing text (kept free of Telegram)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.core.identity import telegram_id
from dialogs.model import Event, Reply
from storage.repositories import users

log = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[list[Reply] | None]]


class Effects:
    """Event name -> coroutine; unknown events are logged and ignored."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {"language_changed": self._language_changed}

    def on(self, name: str, handler: Handler) -> None:
        """Add the handler of an event (features register theirs at start-up)."""
        self.handlers[name] = handler

    async def first_contact(self, *, key: str, lang: str, session: Any) -> None:
        """Record a new user the first time they write."""
        await users.ensure_user(session=session, channel_key=key, telegram_id=telegram_id(key), language=lang)

    async def handle(self, event: Event, *, key: str, session: Any) -> list[Reply]:
        """Run the handler of an event; it may answer with replies to show after the engine's."""
        handler = self.handlers.get(event.name)
        if handler is None:
            log.debug("no effect for event %s", event.name)
            return []
        return list(await handler(key=key, session=session, **dict(event.data)) or [])

    async def _language_changed(self, *, key: str, session: Any, lang: str) -> None:
        """Remember the chosen language on the user's record too."""
        await users.set_language(session=session, channel_key=key, language=lang)
