"""Send what a callback produced, after the callback was acknowledged, with retries.

callback ─► turn ─► rows in wecom_outbox (same transaction) ─► commit ─► HTTP 200 ─► wake()
                                                   sender loop ─► per user, oldest first ─► WeCom

A user's messages go out one at a time and in order; different users' in parallel. Several
processes may serve one county (replicas behind one address, on PostgreSQL): a user's sending is
leased to one of them at a time (wecom_lease), so nothing goes twice or out of order. A row is
marked sent only after WeCom accepted it, with the msgid WeCom gave it (a later msg_send_fail
names it: session.py); a failure keeps it (and the user's later ones) for a retry after a growing
wait. A 客服 message that cannot go now:

    window closed (48 h / 5 messages), or the session ended by a person ─► a reply waits ("held")
        and goes out at the user's next message
    a person serves the customer (state 2/3; learnt from WeCom's 95018 too) ─► a reply is dropped
        ("failed": sent later it would talk over the person)
    either way, a message sent on a feature's behalf (`ref`: an HR notice, a draft reminder) goes
        back to its feature ("returned", Outbound.returned), which holds it for the next contact
        and tells HR it was not delivered
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any

from bot.channels.wecom.api import WeComAPI, WeComError
from storage.crypto import Cipher
from storage.db import Database
from storage.models_wecom import (
    APP,
    APP_FILE,
    CARD_UPDATE,
    FAILED,
    HELD,
    KF,
    KF_ENDED,
    KF_PEOPLE,
    KF_WELCOME,
    PENDING,
    RETURNED,
    SENT,
    WecomOutbox,
    WecomPeer,
)
from storage.repositories import wecom as repo
from storage.repositories import wecom_leases as leases
from storage.repositories.wecom_leases import lease_name

log = logging.getLogger(__name__)

KF_WINDOW_S = 48 * 3600
KF_QUOTA = 5  # messages per customer message
RETRY_S = (5.0, 30.0, 120.0, 600.0, 1800.0)  # waits after the 1st, 2nd, ... failed attempt
POLL_S = 5.0  # look for due rows at least this often (retries, other processes' rows)
CONCURRENT_USERS = 64
# Longer than one batch can take (BATCH rows of at most REQUEST_TIMEOUT_S each): a lease renewed per
# batch never runs out under a live sender.
LEASE_S = 600.0
BATCH = 10  # rows read at once per user (a turn queues a few)
TASK_EXISTS = 42014  # a card's task_id was used: an earlier attempt got through
# kf/send_msg outside the window: the real code is not documented (95999 is the fake's
# placeholder; 95015 kept from the first version of this module, unconfirmed).
KF_WINDOW_ERRORS = frozenset({95999, 95015})
KF_SESSION_STATE = 95018  # "send msg session status invalid": the session is not in state 0 or 1
WINDOW, PEOPLE, ENDED = "window closed", "a person serves the customer", "session ended"
PATHS = {
    APP: "message/send",
    APP_FILE: "message/send",
    CARD_UPDATE: "message/update_template_card",
    KF: "kf/send_msg",
    KF_WELCOME: "kf/send_msg_on_event",
}


def window_open(last_inbound_at: float | None, sent_since: int, now: float) -> bool:
    """True while WeCom lets the bot write to a 客服 user: 48 h after their message, 5 messages."""
    return last_inbound_at is not None and now - last_inbound_at < KF_WINDOW_S and sent_since < KF_QUOTA


def kf_blocked(peer: WecomPeer | None, now: float, more: int = 0) -> str | None:
    """Why the bot cannot write `more` + 1 messages to a 客服 user now (None: it can)."""
    if peer is not None and peer.service_state in KF_PEOPLE:
        return PEOPLE
    if peer is None or not window_open(peer.last_inbound_at, peer.sent_since + more, now):
        return WINDOW
    if peer.service_state == KF_ENDED:  # a person ended it: WeCom takes no message before the next one
        return ENDED
    return None


class Outbox:
    """The sender loop and the encryption of queued payloads."""

    def __init__(
        self,
        database: Database,
        cipher: Cipher,
        apis: dict[str, WeComAPI | None],
        *,
        clock: Callable[[], float] = time.time,
        writes: Callable[[], AbstractAsyncContextManager[None]] = nullcontext,
        hand_back: Callable[[str, str], Awaitable[Any]] | None = None,
    ) -> None:
        self.database, self.cipher, self.apis, self.clock = database, cipher, apis, clock
        self.hand_back = hand_back  # Outbound.returned: a feature's message back to the feature
        self.learn_state: Callable[[str], Awaitable[int | None]] | None = None  # KfSessions.learn
        # The conversation store's write turn: on SQLite our commits take turns with the dialogs'
        # saves instead of making them wait on a busy file.
        self.writes = writes
        self._wake = asyncio.Event()
        self._busy: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(CONCURRENT_USERS)
        self._stopping = False
        self._again: set[str] = set()
        self.holder = secrets.token_hex(16)  # this process, in the leases of the users it sends to

    def seal(self, payload: dict[str, Any]) -> str:
        """A payload as stored: JSON encrypted with the data key."""
        return self.cipher.encrypt(json.dumps(payload, ensure_ascii=False, separators=(",", ":")))

    def unseal(self, stored: str) -> dict[str, Any]:
        """A stored payload back."""
        return json.loads(self.cipher.decrypt(stored))

    def wake(self, key: str | None = None) -> None:
        """New rows of `key` are committed: send them now (without a key: look for any due rows)."""
        if key is None:
            self._wake.set()
        else:
            self._start(key)  # no query: the callback path stays short under load

    async def run(self, stop: asyncio.Event) -> None:
        """Send due rows until `stop` is set, then wait for sends under way."""
        while not stop.is_set():
            self._wake.clear()
            try:
                await self.dispatch()
            except Exception:  # a database hiccup must not end the loop
                log.exception("WeCom outbox round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_first(self._wake, stop), POLL_S)
        self._stopping = True  # senders finish the call under way and leave the rest for the next start
        await self.drain()

    async def drain(self) -> None:
        """Wait for the sends under way."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def idle(self) -> bool:
        """True when nothing is being sent and nothing is due (tests and benchmarks wait for it)."""
        if self._busy:
            return False
        async with self.database.session() as session:
            return not await repo.due_keys(session=session, now=self.clock(), limit=1)

    async def dispatch(self) -> int:
        """Start a sender for every user with due rows who has none running; how many started."""
        async with self.database.session() as session:
            keys = await repo.due_keys(session=session, now=self.clock())
        return sum(self._start(key) for key in keys)

    def _start(self, key: str) -> bool:
        """Start sending the user's rows unless that is under way; True when started."""
        if key in self._busy or self._stopping:
            if key in self._busy:
                self._again.add(key)  # rows committed while the sender was reading: look once more
            return False
        self._busy.add(key)
        task = asyncio.create_task(self._send_user(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _send_user(self, key: str) -> None:
        """Send the user's pending rows in order; stop at the first that cannot go now."""
        lease = lease_name("send", key)
        try:
            async with self._slots:
                try:
                    # Another process serving the county may be sending to this user: then it sends
                    # these rows too (its lease runs out if it dies, and the poll picks them up).
                    while await self._send_batch(key, lease):
                        pass
                finally:
                    await self._give_back(lease)
        except Exception:
            log.exception("WeCom outbox: sending to a user failed")
        finally:
            self._busy.discard(key)
            if key in self._again:
                self._again.discard(key)
                self._start(key)

    async def _lease(self, session: Any, name: str) -> bool:
        """Take or extend this process's lease on a user's sending (for one batch and more).

        SQLite is served by one process (several need PostgreSQL): there the in-memory `_busy` set
        is the whole lease, and the callbacks' commits do not queue behind lease writes."""
        if self.database.is_sqlite:
            return True
        return await leases.take(
            session=session, name=name, holder=self.holder, now=self.clock(), seconds=LEASE_S
        )

    async def _give_back(self, name: str) -> None:
        """Let another process send to the user at once."""
        if self.database.is_sqlite:
            return
        async with self.writes(), self.database.session() as session:
            await leases.give_back(session=session, name=name, holder=self.holder)

    async def _send_batch(self, key: str, lease: str) -> bool:
        """Send the user's oldest pending rows (one read for several, on the connection that renews
        the lease); True when more may wait. False at once when another process holds the lease."""
        async with self.database.session() as session:
            if not await self._lease(session, lease):
                return False
            rows = await repo.pending_for(session=session, key=key, limit=BATCH)
        for row in rows:
            if self._stopping or row.next_attempt_at > self.clock() or not await self._send_one(row):
                return False
        return len(rows) == BATCH

    async def _send_one(self, row: WecomOutbox) -> bool:
        """Try one row; True when it is done with (sent or failed for good) and the next may go."""
        assert row.id is not None
        if row.kind == KF:
            blocked = await self._kf_blocked(row.key)
            if blocked is not None:  # and the user's later ones, on the next rounds of the loop
                return await self._not_now(row, blocked)
        api = self.apis.get(row.kind)
        if api is None:
            await self._finish(row.id, FAILED, "channel not configured")
            return True
        try:
            payload = self.unseal(row.payload)
            if row.kind == APP_FILE:
                payload = await _uploaded(api, payload)
            answer = await api.call(PATHS[row.kind], payload)
        except WeComError as error:
            return await self._failed(row, error)
        msgid = str(answer.get("msgid") or "") or None
        await self._finish(row.id, SENT, counts_for=row.key if row.kind == KF else None, msgid=msgid)
        return True

    async def _not_now(self, row: WecomOutbox, why: str, error: str | None = None) -> bool:
        """A 客服 message that cannot go now: held (a reply, for the next message), dropped (a reply
        while a person serves), or handed back to its feature; the next row may be looked at."""
        assert row.id is not None
        if row.ref is not None and self.hand_back is not None:
            await self._finish(row.id, RETURNED, error or why)
            await self.hand_back(row.key, row.ref)
        elif why == PEOPLE:
            await self._finish(row.id, FAILED, error or why)
        else:
            await self._finish(row.id, HELD, error)
        return True

    async def _failed(self, row: WecomOutbox, error: WeComError) -> bool:
        """Decide what a failed attempt means: sent after all, held, retried later, or given up."""
        assert row.id is not None
        if error.errcode == TASK_EXISTS and row.attempts:
            await self._finish(row.id, SENT)  # the earlier attempt reached WeCom
            return True
        if row.kind == KF and error.errcode in KF_WINDOW_ERRORS:  # closed: no more tries until they write
            async with self.writes(), self.database.session() as session:
                await repo.close_window(session=session, key=row.key, quota=KF_QUOTA)
                await session.commit()
            return await self._not_now(row, WINDOW, f"errcode {error.errcode}")
        if row.kind == KF and error.errcode == KF_SESSION_STATE and self.learn_state is not None:
            state = await self.learn_state(row.key)  # stored; a person serving silences the rest
            if state in KF_PEOPLE:
                return await self._not_now(row, PEOPLE, f"errcode {error.errcode}")
            if state == KF_ENDED:
                return await self._not_now(row, ENDED, f"errcode {error.errcode}")
        if row.kind in (CARD_UPDATE, KF_WELCOME) or row.attempts + 1 >= len(RETRY_S):
            # A card update or a welcome code is worth little later: give up on it, not on the rest.
            log.warning("WeCom outbox: giving up on a %s message (errcode %s)", row.kind, error.errcode)
            await self._finish(row.id, FAILED, f"errcode {error.errcode}")
            return True
        await self._finish(row.id, PENDING, f"errcode {error.errcode}", self.clock() + RETRY_S[row.attempts])
        return False

    async def _kf_blocked(self, key: str) -> str | None:
        """Why the bot cannot write to the 客服 user now (None: it can)."""
        async with self.database.session() as session:
            peer = await repo.load_peer(session=session, key=key)
        return kf_blocked(peer, self.clock())

    async def _finish(
        self,
        entry_id: int,
        status: str,
        error: str | None = None,
        retry_at: float = 0.0,
        counts_for: str | None = None,
        msgid: str | None = None,
    ) -> None:
        """Record an attempt's outcome (a sent 客服 message uses up one of the user's five)."""
        async with self.writes(), self.database.session() as session:
            await repo.finish(
                session=session, entry_id=entry_id, status=status, error=error, retry_at=retry_at,
                counts_for=counts_for, msgid=msgid,
            )  # fmt: skip


async def _uploaded(api: WeComAPI, payload: dict[str, Any]) -> dict[str, Any]:
    """A queued file message with its bytes uploaded as temporary media (valid 3 days)."""
    kind = payload["msgtype"]
    file = payload[kind]
    data = base64.b64decode(file["data"])
    media_id = await api.upload(kind, file["name"], data, file["content_type"])
    return {**{k: v for k, v in payload.items() if k != kind}, kind: {"media_id": media_id}}


async def _first(*events: asyncio.Event) -> None:
    """Return when any of the events is set."""
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
