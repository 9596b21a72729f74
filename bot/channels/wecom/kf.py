"""微信客服: a callback only says "there is news"; the bot then reads the stream with sync_msg.

notify ─► one reader task per account ─► sync_msg(cursor, token) ─► each message: apply once
                                                  └─► has_more: next page ─► cursor saved in the database

Each message is applied (and marked seen) in its own transaction before the page's cursor is
saved, so a restart in the middle of a page reads the page again and skips what was applied.
Session events and msg_send_fail go to session.py; a customer's message while a person of the
county serves them is noted as contact only (session.py's docstring).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Any

from bot.channels.wecom.api import WeComAPI, WeComError
from bot.channels.wecom.dialog import Dialogs
from bot.channels.wecom.inbound import from_kf
from bot.channels.wecom.session import KfSessions
from dialogs.model import DEFAULT_LANGUAGE, Reply
from storage.db import Database
from storage.repositories import wecom as repo
from storage.repositories import wecom_leases as leases
from storage.repositories.wecom_leases import lease_name

log = logging.getLogger(__name__)
PAGE_LIMIT = 1000
MAX_PAGES = 100  # per notification; the next notification goes on from the saved cursor
# Several processes may serve the account: one reads the stream at a time, the lease renewed per
# page (longer than a page takes); a notification that finds it taken waits for its turn.
LEASE_S, LEASE_WAIT_S, LEASE_POLL_S = 300.0, 120.0, 0.2


class KfReader:
    """Reads one 客服 account's message stream, one reader at a time."""

    def __init__(
        self, api: WeComAPI, dialogs: Dialogs, database: Database, open_kfid: str, sessions: KfSessions
    ) -> None:
        self.api, self.dialogs, self.database, self.open_kfid = api, dialogs, database, open_kfid
        self.sessions = sessions
        self._token = ""
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self.holder = secrets.token_hex(16)  # this process, in the stream's lease

    async def notify(self, fields: dict[str, str]) -> None:
        """A kf_msg_or_event callback: read the stream soon (the callback is answered at once)."""
        if fields.get("Event") != "kf_msg_or_event":
            return
        if fields.get("OpenKfId") and fields.get("OpenKfId") != self.open_kfid:
            return  # another account of the organisation
        self._token = fields.get("Token", "") or self._token
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.create_task(self._read_until_quiet())

    async def _read_until_quiet(self) -> None:
        """Read, and read again while notifications arrived meanwhile."""
        while True:
            self._again = False
            try:
                await self.read()
            except WeComError as error:
                log.warning(
                    "WeCom kf: sync_msg failed (errcode %s); the next notification retries", error.errcode
                )
            except Exception:
                log.exception("WeCom kf: reading the stream failed")
            if not self._again:
                return

    async def read(self) -> int:
        """Apply every message after the stored cursor; how many were applied."""
        lease = lease_name("kf-read", self.open_kfid)
        if not await self._wait_for(lease):
            log.warning("WeCom kf: another process kept reading the stream; the next notification reads")
            return 0
        try:
            return await self._read_pages(lease)
        finally:
            await self._give_back(lease)

    async def _wait_for(self, lease: str) -> bool:
        """Take the stream's lease, waiting while another process reads: what it has not read yet
        (the message that woke us may have come after its last page) is read here after it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LEASE_WAIT_S
        while not await self._take(lease):
            if loop.time() > deadline:
                return False
            await asyncio.sleep(LEASE_POLL_S)
        return True

    async def _take(self, lease: str) -> bool:
        """Take or extend this process's lease on reading the stream (SQLite: one process, one
        reader task, no lease needed)."""
        if self.database.is_sqlite:
            return True
        async with self.database.session() as session:
            return await leases.take(
                session=session, name=lease, holder=self.holder, now=time.time(), seconds=LEASE_S
            )

    async def _give_back(self, lease: str) -> None:
        """Let another process read the stream at once."""
        if not self.database.is_sqlite:
            async with self.database.session() as session:
                await leases.give_back(session=session, name=lease, holder=self.holder)

    async def _read_pages(self, lease: str) -> int:
        """Read pages while there are more (and the lease, renewed from the second page on, is ours)."""
        applied = 0
        for page_number in range(MAX_PAGES):
            if page_number and not await self._take(lease):
                break
            async with self.database.session() as session:
                cursor = await repo.load_cursor(session=session, open_kfid=self.open_kfid)
            page = await self.api.call("kf/sync_msg", self._request(cursor))
            for message in page.get("msg_list") or []:
                applied += await self._apply(message)
            next_cursor = page.get("next_cursor")
            if next_cursor:
                async with self.database.session() as session:
                    await repo.save_cursor(session=session, open_kfid=self.open_kfid, cursor=str(next_cursor))
            if not page.get("has_more"):
                break
        return applied

    def _request(self, cursor: str | None) -> dict[str, Any]:
        """The sync_msg body: always the stored cursor, and the callback's token when there is one."""
        body: dict[str, Any] = {"limit": PAGE_LIMIT, "open_kfid": self.open_kfid}
        if cursor:
            body["cursor"] = cursor
        if self._token:
            body["token"] = self._token
        return body

    async def _apply(self, message: dict[str, Any]) -> int:
        """Apply one message; 1 when it was new input for the dialogs."""
        incoming = None
        try:
            if await self.sessions.on_event(message):
                return 0
            incoming = from_kf(message)
            if incoming is None:
                return 0
            if await self.sessions.people_serve(incoming.key):
                await self.dialogs.note_contact(incoming)
                return 0
            return int(await self.dialogs.apply(incoming))
        except Exception:  # one message that fails must not stop the stream for every household
            log.exception("WeCom kf: a message could not be applied")
            if incoming is not None:
                await self.dialogs.send_on_own(incoming.key, [Reply("core.error")], DEFAULT_LANGUAGE)
            return 0

    def reading(self) -> bool:
        """True while a read is under way."""
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        """Wait for a read under way."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
