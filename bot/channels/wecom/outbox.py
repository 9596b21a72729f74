"""Send what a callback produced, after the callback was acknowledged, with retries.

callback ─► turn ─► rows in wecom_outbox (same transaction) ─► commit ─► HTTP 200 ─► wake()
                                                   sender loop ─► per user, oldest first ─► WeCom

A user's messages go out one at a time and in order; different users' in parallel. A row is
marked sent only after WeCom accepted it; a failure keeps it (and the user's later ones) for a
retry after a growing wait. 客服 messages wait ("held") while the user's 48-hour / 5-message
window is closed and go out at their next message.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import time
from collections.abc import Callable
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
    KF_WELCOME,
    PENDING,
    SENT,
    WecomOutbox,
)
from storage.repositories import wecom as repo

log = logging.getLogger(__name__)

KF_WINDOW_S = 48 * 3600
KF_QUOTA = 5  # messages per customer message
RETRY_S = (5.0, 30.0, 120.0, 600.0, 1800.0)  # waits after the 1st, 2nd, ... failed attempt
POLL_S = 5.0  # look for due rows at least this often (retries, other processes' rows)
CONCURRENT_USERS = 64
BATCH = 10  # rows read at once per user (a turn queues a few)
TASK_EXISTS = 42014  # a card's task_id was used: an earlier attempt got through
KF_WINDOW_ERRORS = frozenset({95999, 95018, 95015})  # fake's placeholder; "session state"/"not in window"
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
    ) -> None:
        self.database, self.cipher, self.apis, self.clock = database, cipher, apis, clock
        # The conversation store's write turn: on SQLite our commits take turns with the dialogs'
        # saves instead of making them wait on a busy file.
        self.writes = writes
        self._wake = asyncio.Event()
        self._busy: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(CONCURRENT_USERS)
        self._stopping = False
        self._again: set[str] = set()

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
        try:
            async with self._slots:
                while await self._send_batch(key):
                    pass
        except Exception:
            log.exception("WeCom outbox: sending to a user failed")
        finally:
            self._busy.discard(key)
            if key in self._again:
                self._again.discard(key)
                self._start(key)

    async def _send_batch(self, key: str) -> bool:
        """Send the user's oldest pending rows (one read for several); True when more may wait."""
        async with self.database.session() as session:
            rows = await repo.pending_for(session=session, key=key, limit=BATCH)
        for row in rows:
            if self._stopping or row.next_attempt_at > self.clock() or not await self._send_one(row):
                return False
        return len(rows) == BATCH

    async def _send_one(self, row: WecomOutbox) -> bool:
        """Try one row; True when it is done with (sent or failed for good) and the next may go."""
        assert row.id is not None
        if row.kind == KF and not await self._kf_window_open(row.key):
            await self._finish(row.id, HELD)  # and the user's later ones, on the next rounds of the loop
            return True
        api = self.apis.get(row.kind)
        if api is None:
            await self._finish(row.id, FAILED, "channel not configured")
            return True
        try:
            payload = self.unseal(row.payload)
            if row.kind == APP_FILE:
                payload = await _uploaded(api, payload)
            await api.call(PATHS[row.kind], payload)
        except WeComError as error:
            return await self._failed(row, error)
        await self._finish(row.id, SENT, counts_for=row.key if row.kind == KF else None)
        return True

    async def _failed(self, row: WecomOutbox, error: WeComError) -> bool:
        """Decide what a failed attempt means: sent after all, held, retried later, or given up."""
        assert row.id is not None
        if error.errcode == TASK_EXISTS and row.attempts:
            await self._finish(row.id, SENT)  # the earlier attempt reached WeCom
            return True
        if row.kind == KF and error.errcode in KF_WINDOW_ERRORS:
            await self._finish(row.id, HELD, f"errcode {error.errcode}")
            return True
        if row.kind in (CARD_UPDATE, KF_WELCOME) or row.attempts + 1 >= len(RETRY_S):
            # A card update or a welcome code is worth little later: give up on it, not on the rest.
            log.warning("WeCom outbox: giving up on a %s message (errcode %s)", row.kind, error.errcode)
            await self._finish(row.id, FAILED, f"errcode {error.errcode}")
            return True
        await self._finish(row.id, PENDING, f"errcode {error.errcode}", self.clock() + RETRY_S[row.attempts])
        return False

    async def _kf_window_open(self, key: str) -> bool:
        """True while the user's 客服 window lets the bot write."""
        async with self.database.session() as session:
            peer = await repo.load_peer(session=session, key=key)
        return peer is not None and window_open(peer.last_inbound_at, peer.sent_since, self.clock())

    async def _finish(
        self,
        entry_id: int,
        status: str,
        error: str | None = None,
        retry_at: float = 0.0,
        counts_for: str | None = None,
    ) -> None:
        """Record an attempt's outcome (a sent 客服 message uses up one of the user's five)."""
        async with self.writes(), self.database.session() as session:
            await repo.finish(
                session=session, entry_id=entry_id, status=status, error=error, retry_at=retry_at,
                counts_for=counts_for,
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
