"""Remind people once of an intake they left half-way (it stays there; nothing is lost).

hourly ──► drafts idle > 1 day ──► lock the conversation ──► still unfinished and not yet reminded?
                                                    └──► ask "continue / start over" again, mark reminded
a channel reports later that the reminder did not arrive (Outbound.returned, ref "draft") ──► the
    mark is taken off: the next hourly run tries again
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from bot.core.outbound import Outbound
from bot.core.sealing import seal, unseal
from dialogs.engine import offer_draft
from dialogs.model import DEFAULT_LANGUAGE, Reply, State
from storage.crypto import Cipher
from storage.repositories.drafts import idle_drafts

if TYPE_CHECKING:  # services imports this module to register its handler
    from bot.core.services import Services

log = logging.getLogger(__name__)
DRAFT_FLOW = "intake"
REMIND_AFTER = dt.timedelta(days=1)
REF = "draft"  # the Outbound ref of a reminder


def needs_reminder(state: State, today: dt.date) -> bool:
    """An unfinished draft, idle for a day by the user's own clock, not reminded before."""
    last = state.data.get("today")
    kept = state.flow == DRAFT_FLOW or DRAFT_FLOW in state.drafts
    if not kept or state.data.get("reminded") or not last:
        return False
    return today - dt.date.fromisoformat(last) >= REMIND_AFTER


async def remind_drafts(services: Services, *, now: dt.datetime) -> int:
    """Send each idle draft's owner one reminder, through whichever channel they wrote from."""
    cutoff = (now - REMIND_AFTER).timestamp()
    async with services.database.session() as session:
        keys = await idle_drafts(session=session, flow=DRAFT_FLOW, idle_since=cutoff)
    sent = 0
    for key in keys:
        # Console conversations (and channels this process does not serve) are not reminded.
        if services.outbound.reaches(key) and await _remind(services, key, now.date()):
            sent += 1
    return sent


async def _remind(services: Services, key: str, today: dt.date) -> bool:
    """Remind one conversation under its lock, so a user's own update cannot interleave."""
    async with services.conversations.open(key) as slot:
        state = unseal(slot.state, services.cipher, DEFAULT_LANGUAGE)  # a kept draft is moved back in
        question = offer_draft(services.book, state, DRAFT_FLOW) if needs_reminder(state, today) else None
        if question is None:
            return False
        state.data["reminded"] = today.isoformat()
        if not await services.outbound.send(key, [Reply("drafts.reminder"), question], state.lang, ref=REF):
            return False  # not delivered (a closed window, a chat gone): try again next hour
        slot.save(seal(state, services.cipher))
    log.info("reminded %s of an unfinished intake", key)
    return True


def register(outbound: Outbound, conversations: Any, cipher: Cipher) -> None:
    """A reminder a channel took but could not deliver is not marked as given: tried again."""

    async def returned(*, key: str, ident: str) -> None:
        async with conversations.open(key) as slot:
            if slot.state is None:
                return
            state = unseal(slot.state, cipher, DEFAULT_LANGUAGE)
            if state.data.pop("reminded", None) is not None:
                slot.save(seal(state, cipher))
        log.info("a draft reminder was not delivered: it is tried again")

    outbound.on_returned(REF, returned)
