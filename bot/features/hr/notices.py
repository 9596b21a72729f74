"""Telling a household about HR's follow-up, through its own channel, once; held while it cannot be told.

status set by HR ──► hold a notice (storage.repositories.notices) ──► try now through Services.outbound
    sender True  ──► told: the change's household_notified_at, the notice deleted
    sender False ──► (a WeChat window closed, no sender for that channel here) waits; HR sees
                     "not told yet" in /pending and the export
household writes again (any turn: `register` hooks Effects.on_contact; only on channels whose
    sender `holds`, e.g. 微信客服, so other channels' turns cost no lookup) ──► waiting notices sent
every hour (bot.core.scheduler) ──► every waiting notice this process can reach is tried again
    sender raises ──► it may have arrived: never sent again ("failed"), HR still sees "not told yet"
the channel reports later that a notice it took did not arrive (Outbound.returned, ref "notice:<change>":
    微信客服's msg_send_fail, or a person of the county took over the chat) ──► waiting again, HR sees
    "not told yet", sent at the household's next contact

Only families that used the bot themselves (household.answered_by = "household") are told; the
notice goes to the key they submitted from, in the language they last used.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from bot.core.effects import Effects
from bot.core.outbound import Outbound
from bot.features.hr.render import value
from content.i18n import Translator
from dialogs.model import Reply
from storage.db import Database
from storage.models import utc_now
from storage.repositories import notices

log = logging.getLogger(__name__)
REF_KIND = "notice"  # Outbound ref "notice:<status change id>"


async def notify_household(outbound: Outbound, session: Any, change_id: int) -> bool:
    """Hold the notice of a status change and try to send it now; True when the household was told."""
    notice_id = await notices.hold(session=session, change_id=change_id, now=utc_now())
    return notice_id is not None and await deliver(outbound, session, notice_id)


async def deliver_waiting(outbound: Outbound, session: Any, key: str) -> int:
    """Send the notices waiting for a household (it just wrote, so its channel may take them now)."""
    told = 0
    for notice_id in await notices.waiting_for(session=session, channel_key=key):
        told += await deliver(outbound, session, notice_id)
    return told


async def deliver(outbound: Outbound, session: Any, notice_id: int) -> bool:
    """Claim one notice and send it; True when the channel took it."""
    notice = await notices.claim(session=session, notice_id=notice_id, now=time.time())
    if notice is None:
        return False
    t = Translator(notice.language)
    reply = Reply(f"hr.notify.{notice.status}", (("kind", value(t, "kind", notice.kind)),))
    try:
        delivered = await outbound.send(
            notice.key, [reply], notice.language, ref=f"{REF_KIND}:{notice.change_id}"
        )
    except Exception as error:  # it may have arrived: claimed, so never twice
        log.warning(
            "could not tell the household of status change %s: %s", notice.change_id, type(error).__name__
        )
        await notices.failed(session=session, notice_id=notice.id)
        return False
    if not delivered:
        await notices.release(session=session, notice_id=notice.id)
        log.info("status change %s held for the household's next contact", notice.change_id)
        return False
    await notices.sent(session=session, notice=notice, now=utc_now())
    return True


async def retry_waiting(outbound: Outbound, session: Any) -> int:
    """Try every waiting notice whose channel this process reaches (the hourly job); how many went out."""
    told = 0
    for notice_id, key in await notices.all_waiting(session=session):
        if outbound.reaches(key):
            told += await deliver(outbound, session, notice_id)
    return told


def register(effects: Effects, outbound: Outbound, database: Database) -> None:
    """Send a household's waiting notices whenever it writes (the WeChat window is open again then);
    hold again a notice a channel took but could not deliver."""

    async def on_contact(*, key: str, session: Any, side_writes: Any) -> None:
        if not outbound.holds(key):  # a set lookup: the hot path of other channels stays as it was
            return
        waiting = await notices.waiting_for(session=session, channel_key=key)  # a read: no write turn
        if waiting:
            async with side_writes():
                for notice_id in waiting:
                    await deliver(outbound, session, notice_id)

    effects.on_contact(on_contact)

    async def returned(*, key: str, ident: str) -> None:
        if not ident.isdigit():
            return
        async with database.session() as session:
            held = await notices.rehold(session=session, change_id=int(ident), now=utc_now())
        log.info("status change %s not delivered: %s", ident, "held again" if held else "superseded")

    outbound.on_returned(REF_KIND, returned)
