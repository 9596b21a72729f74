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
ContactHook = Callable[..., Awaitable[None]]


class Effects:
    """Event name -> coroutine; unknown events are logged and ignored."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {"language_changed": self._language_changed}
        self.contact_hooks: list[ContactHook] = []

    def on(self, name: str, handler: Handler) -> None:
        """Add the handler of an event (features register theirs at start-up)."""
        self.handlers[name] = handler

    def on_contact(self, hook: ContactHook) -> None:
        """Run `hook(key=, session=, side_writes=)` on every turn of every user (features register
        at start-up): e.g. messages held for a user whose channel could not take them until they
        wrote again. A hook reads first and writes only inside `side_writes()` (see turns.Slot)."""
        self.contact_hooks.append(hook)

    async def contact(self, *, key: str, session: Any, side_writes: Any) -> None:
        """The user wrote: run the contact hooks (one failing is logged and spares the turn)."""
        for hook in self.contact_hooks:
            try:
                await hook(key=key, session=session, side_writes=side_writes)
            except Exception:  # held messages wait for the next contact; the turn goes on
                log.exception("contact hook failed")

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
