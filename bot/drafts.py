"""Remind people once of an intake they left half-way (it stays there; nothing is lost).

hourly ──► drafts idle > 1 day ──► lock the conversation ──► still unfinished and not yet reminded?
                                                    └──► ask "continue / start over" again, mark reminded
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from bot.sealing import seal, unseal
from bot.services import Services
from content.i18n import Translator
from dialogs.engine import offer_draft
from dialogs.model import DEFAULT_LANGUAGE, Reply, State
from storage.repositories.drafts import idle_drafts

log = logging.getLogger(__name__)
DRAFT_FLOW = "intake"
REMIND_AFTER = dt.timedelta(days=1)


def needs_reminder(state: State, today: dt.date) -> bool:
    """An unfinished draft, idle for a day by the user's own clock, not reminded before."""
    last = state.data.get("today")
    kept = state.flow == DRAFT_FLOW or DRAFT_FLOW in state.drafts
    if not kept or state.data.get("reminded") or not last:
        return False
    return today - dt.date.fromisoformat(last) >= REMIND_AFTER


def chat_of(key: str) -> int | None:
    """The Telegram chat of a conversation key; console conversations are not reminded."""
    prefix, _, rest = key.partition(":")
    return int(rest) if prefix == "tg" and rest.lstrip("-").isdigit() else None


async def remind_drafts(services: Services, send: Any, *, now: dt.datetime) -> int:
    """Send each idle draft's owner one reminder; `send(chat_id, replies, lang)` does the sending."""
    cutoff = (now - REMIND_AFTER).timestamp()
    async with services.database.session() as session:
        keys = await idle_drafts(session=session, flow=DRAFT_FLOW, idle_since=cutoff)
    sent = 0
    for key in keys:
        chat = chat_of(key)
        if chat is not None and await _remind(services, key, chat, send, now.date()):
            sent += 1
    return sent


async def _remind(services: Services, key: str, chat: int, send: Any, today: dt.date) -> bool:
    """Remind one conversation under its lock, so a user's own update cannot interleave."""
    async with services.conversations.open(key) as slot:
        state = unseal(slot.state, services.cipher, DEFAULT_LANGUAGE)  # a kept draft is moved back in
        question = offer_draft(services.book, state, DRAFT_FLOW) if needs_reminder(state, today) else None
        if question is None:
            return False
        state.data["reminded"] = today.isoformat()
        await send(chat, [Reply("drafts.reminder"), question], state.lang)
        slot.save(seal(state, services.cipher))
    log.info("reminded %s of an unfinished intake", key)
    return True


def telegram_sender(bot: Any) -> Any:
    """A `send` for remind_drafts that renders replies as Telegram messages."""
    from bot.render import outgoing

    async def send(chat_id: int, replies: list[Reply], lang: str) -> None:
        for message in outgoing(Translator(lang), replies):
            await bot.send_message(chat_id, message.text, reply_markup=message.markup)

    return send
