"""A digest's content to a WeCom group chat at most once; the chat is told when it may be missing.

WeCom documents a duplicate check (enable_duplicate_check + duplicate_check_interval, ≤ 4 h) for
message/send, which the digests to members use; it documents none for appchat/send (group chats,
"wecom:group:<chatid>"). So a group send does not rely on one:

    claim (committed) ─► appchat/send, never repeated when its outcome is unknown ─► "sent" + msgid
        errcode (WeCom refused for sure)  ─► claim released: the worker's next try may send
        timeout / dropped answer / 5xx    ─► "maybe": not sent again; the chat gets a short note
                                              (wecom.group_maybe_lost) naming the digest, and the
                                              worker records the digest as sent
    claim found at a later try ─► "sent": its msgid (a crash came between the send and the
        worker's record); "sending" (a process died during the request): the "maybe" path

At most once, then: the records of a digest never reach the group twice, and when they might not
have reached it HR reads so where the digest should be (its records stay in /pending and the
exports). Claims are kept 30 days (channel.py purges them); a destination repaired later than that
could get a digest again, headed by delivery.maybe_repeat as the worker does for any channel.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from bot.channels.wecom.api import WeComAPI, WeComError
from bot.channels.wecom.render import clip
from bot.features.delivery.steps import HR_LANGUAGE
from content.i18n import Translator
from storage.db import Database
from storage.models_wecom import GROUP_MAYBE, GROUP_SENT
from storage.repositories import wecom_groups

log = logging.getLogger(__name__)
TITLE_BYTES = 200
KEPT_S = 30 * 24 * 3600


class GroupSends:
    """Content sends to group chats under a dedupe key, claimed in the database."""

    def __init__(self, api: WeComAPI, database: Database, clock: Callable[[], float] = time.time) -> None:
        self.api, self.database, self.clock = api, database, clock

    async def send(self, chat_id: str, body: dict[str, Any], dedupe_key: str) -> str:
        """appchat/send `body` once for this key; WeCom's msgid ("" when unknown). WeComError when
        WeCom refused it for sure (a later call may try again)."""
        digest = hashlib.sha256(f"{chat_id}\x1f{dedupe_key}".encode()).hexdigest()
        async with self.database.session() as session:
            earlier = await wecom_groups.claim(session=session, digest=digest, now=self.clock())
        if earlier is not None:
            if earlier.state == GROUP_SENT:
                return earlier.msgid or ""
            if earlier.state != GROUP_MAYBE:  # claimed by a try that never finished
                await self._maybe_lost(chat_id, digest, body)
            return ""
        try:
            answer = await self.api.call("appchat/send", body, at_most_once=True)
        except WeComError as error:
            if error.unknown:
                await self._maybe_lost(chat_id, digest, body)
                return ""
            async with self.database.session() as session:
                await wecom_groups.release(session=session, digest=digest)
            raise
        msgid = str(answer.get("msgid", ""))
        async with self.database.session() as session:
            await wecom_groups.settle(session=session, digest=digest, state=GROUP_SENT, msgid=msgid or None)
        return msgid

    async def _maybe_lost(self, chat_id: str, digest: str, body: dict[str, Any]) -> None:
        """Record the unknown outcome (never sent again) and tell the chat, once, best effort."""
        async with self.database.session() as session:
            await wecom_groups.settle(session=session, digest=digest, state=GROUP_MAYBE)
        log.warning("WeCom group digest %s: outcome unknown, not sent again; the chat is told", digest[:12])
        content = str((body.get("text") or {}).get("content", ""))
        title = clip(content.split("\n", 1)[0], TITLE_BYTES)
        note = Translator(HR_LANGUAGE).text("wecom.group_maybe_lost", {"title": title})
        try:
            await self.api.call(
                "appchat/send", {"chatid": chat_id, "msgtype": "text", "text": {"content": note}},
                at_most_once=True,
            )  # fmt: skip
        except WeComError as error:
            log.warning("WeCom group digest %s: no note (errcode %s)", digest[:12], error.errcode)

    async def purge(self) -> int:
        """Forget claims older than KEPT_S."""
        async with self.database.session() as session:
            return await wecom_groups.purge(session=session, before=self.clock() - KEPT_S)
