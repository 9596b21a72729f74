"""One WeCom input through the engine: dedupe, turn, queue the replies, commit; then wake the sender.

Everything a callback changes (the conversation, the input marked as seen, the messages to
send, the user's window) is written before WeCom gets its answer, and nothing is sent before
that: a callback WeCom delivers again is recognised, and a crash after the answer loses no
reply (the sender picks the rows up when the process is back).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.channels.wecom import render
from bot.channels.wecom.inbound import Incoming
from bot.channels.wecom.outbox import Outbox, kf_blocked
from bot.core.identity import WECHAT_KF, WECOM, make_key, parse_key
from bot.core.services import Services
from bot.core.turns import take_turn
from content.i18n import Translator
from dialogs.model import DEFAULT_LANGUAGE, Reply
from storage.models_wecom import APP, CARD_UPDATE, KF, KF_WELCOME
from storage.repositories import wecom as repo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Receivers:
    """Who sends: the app's AgentId and the 客服 account."""

    agent_id: int | None
    open_kfid: str | None
    # The app's choices as template cards; else numbered lines (微工作台 shows no cards).
    app_cards: bool = True


class Dialogs:
    """Apply inputs of both WeCom channels and queue what they answer."""

    def __init__(
        self, services: Services, outbox: Outbox, receivers: Receivers, clock: Callable[[], float] = time.time
    ) -> None:
        self.services, self.outbox, self.receivers, self.clock = services, outbox, receivers, clock

    async def apply(self, incoming: Incoming) -> bool:
        """Run one input; False when it had been applied before (or was not for the dialogs)."""
        services, key = self.services, incoming.key
        async with services.conversations.open(key) as slot:
            # Sessions are short or lazy: a pooled connection is held only while it is used, so
            # a burst of callbacks waiting for their write turn does not drain the pool.
            if await self._seen(incoming.digest) or (incoming.only_new and slot.state is not None):
                return False  # delivered again; or the app opened again, which is not an input
            if parse_key(key).channel == WECHAT_KF and incoming.inbound:  # type: ignore[union-attr]
                # Committed before the turn: features' contact hooks send held news through
                # send_on_own during the turn, which must see the window open.
                async with slot.side_writes(), services.database.session() as session:
                    await repo.note_inbound(session=session, key=key, now=self.clock())
                    await repo.release_held(session=session, key=key)
                    await session.commit()
            async with services.database.session() as session:
                state, replies = await take_turn(
                    book=services.book, slot=slot, user_input=incoming.user_input, key=key,
                    default_lang=DEFAULT_LANGUAGE, effects=services.effects, session=session,
                    cipher=services.cipher, numbers_press=parse_key(key).channel == WECOM,  # type: ignore[union-attr]
                )  # fmt: skip
                translator = Translator(state.lang)
                async with slot.side_writes():
                    await repo.mark_seen(session=session, digest=incoming.digest, now=self.clock())
                    await self._queue(session, incoming, translator, replies)
                    await session.commit()
        self.outbox.wake(key)
        return True

    async def _queue(
        self, session: Any, incoming: Incoming, translator: Translator, replies: list[Reply]
    ) -> None:
        """The turn's messages into the outbox (a pressed card's update first)."""
        key = incoming.key
        parsed = parse_key(key)
        assert parsed is not None
        shown = [r for r in replies if not r.notice] if incoming.response_code else replies
        if incoming.response_code:
            notices = [translator.text(r.key, r.params) for r in replies if r.notice]
            update = render.card_update(translator, incoming.label, notices[0] if notices else None)
            await self._add(
                session, key, CARD_UPDATE, [self.card_update(parsed.id, incoming.response_code, update)]
            )
        if parsed.channel == WECOM:
            await self._add(
                session,
                key,
                APP,
                [
                    self.to_member(parsed.id, m)
                    for m in render.app_messages(translator, shown, cards=self.receivers.app_cards)
                ],
            )
        elif incoming.welcome_code:
            welcome = {"code": incoming.welcome_code, **render.welcome_message(translator, shown)}
            await self._add(session, key, KF_WELCOME, [welcome])
        else:
            await self._add(
                session,
                key,
                KF,
                [self.to_customer(parsed.id, m) for m in render.kf_messages(translator, shown)],
            )

    async def note_contact(self, incoming: Incoming) -> bool:
        """A customer's message while a person serves them: it renews the 客服 window and is marked
        seen, and is not an input (session.py says why); False when it was noted before."""
        async with self.services.conversations.side_writes(), self.services.database.session() as session:
            if not await repo.mark_seen(session=session, digest=incoming.digest, now=self.clock()):
                return False
            if incoming.inbound:
                await repo.note_inbound(session=session, key=incoming.key, now=self.clock())
            await session.commit()
        return True

    async def _seen(self, digest: str) -> bool:
        """Whether an input was applied already (a short read of its own)."""
        async with self.services.database.session() as session:
            return await repo.was_seen(session=session, digest=digest)

    async def queue(self, key: str, kind: str, payloads: list[dict[str, Any]]) -> None:
        """Queue payloads in a transaction of their own and wake the sender (HR output)."""
        async with self.services.database.session() as session:
            await self._add(session, key, kind, payloads)
            await session.commit()
        self.outbox.wake(key)

    async def queue_card_update(self, user_id: str, response_code: str, text: str) -> None:
        """Grey out a pressed card."""
        key = make_key(WECOM, user_id)
        await self.queue(key, CARD_UPDATE, [self.card_update(user_id, response_code, text)])

    async def _add(
        self, session: Any, key: str, kind: str, payloads: list[dict[str, Any]], ref: str | None = None
    ) -> None:
        """Queue payloads, encrypted."""
        if payloads:
            sealed = [self.outbox.seal(p) for p in payloads]
            await repo.add_messages(session=session, key=key, kind=kind, payloads=sealed, ref=ref)

    def to_member(self, user_id: str, message: dict[str, Any]) -> dict[str, Any]:
        """An app message for a member."""
        return {"touser": user_id, "agentid": self.receivers.agent_id, **message}

    def to_customer(self, external_userid: str, message: dict[str, Any]) -> dict[str, Any]:
        """A 客服 message for a customer."""
        return {"touser": external_userid, "open_kfid": self.receivers.open_kfid, **message}

    def card_update(self, user_id: str, response_code: str, text: str) -> dict[str, Any]:
        """Grey out a pressed card's buttons, showing `text`."""
        return {
            "userids": [user_id], "agentid": self.receivers.agent_id, "response_code": response_code,
            "button": {"replace_name": text},
        }  # fmt: skip

    # ---------------------------------------------------------------- messages on the bot's own initiative

    async def send_on_own(self, key: str, replies: list[Reply], lang: str, ref: str | None = None) -> bool:
        """bot.core.outbound's sender for wecom: and wxkf: keys.

        False when a 客服 customer's window is closed (or would be before these messages went
        out), or a person serves them: nothing is queued then, and the caller keeps the message
        for the next contact (the HR notices do; a draft reminder is tried again later). `ref`
        goes with the queued rows: WeCom may still report them undelivered (session.py).
        """
        parsed = parse_key(key)
        if parsed is None or parsed.channel not in (WECOM, WECHAT_KF):
            return False
        translator = Translator(lang)
        async with self.services.database.session() as session:
            if parsed.channel == WECOM:
                messages = [
                    self.to_member(parsed.id, m)
                    for m in render.app_messages(translator, replies, cards=self.receivers.app_cards)
                ]
            else:
                messages = [self.to_customer(parsed.id, m) for m in render.kf_messages(translator, replies)]
                if not await self._quota_left(session, key, len(messages)):
                    return False
            await self._add(session, key, APP if parsed.channel == WECOM else KF, messages, ref)
            await session.commit()
        self.outbox.wake(key)
        return True

    async def _quota_left(self, session: Any, key: str, wanted: int) -> bool:
        """True when the customer's window is open for `wanted` more messages besides those queued
        (and no person serves them)."""
        # Queued rows first: a row sent between the two reads is then counted twice (refusing one
        # message too many), never not at all (one too many for WeCom).
        queued = await repo.count_pending(session=session, key=key)
        peer = await repo.load_peer(session=session, key=key)
        return kf_blocked(peer, self.clock(), queued + wanted - 1) is None
