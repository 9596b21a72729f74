"""微信客服 sessions: whether a person of the county serves the customer, and undelivered messages.

A 客服 session has a service_state (kf/service_state/get): 0 未处理, 1 智能助手接待, 2 待接入池,
3 人工接待, 4 已结束或未开始. WeCom takes kf/send_msg only in 0 and 1 (95018 "send msg session
status invalid" otherwise). While a person serves (2 or 3) the bot is quiet for that customer:

    session_status_change (in the sync_msg stream)
        change_type 1 从接待池接入, 2 转接, 4 重新接入已结束会话 ─► 3: quiet; the bot's waiting
            messages go (replies fail; an HR notice or a reminder goes back to its feature:
            HR sees "not told yet" again)
        change_type 3 结束会话 ─► 4: the bot takes over again at the customer's next message
            (which WeCom makes state 0), and held notices go out then
    the customer writes while quiet ─► the window is renewed and the message marked seen, but it
        is not fed to the engine (a conversation must not advance, submit or trigger held notices
        on what was said to a person); kf/service_state/get is asked again first, since a
        session can end without an event (after 48 h)
    kf/send_msg answers 95018 (a person took the session without an event we read, e.g. an
        on-duty servicer got it at once) ─► kf/service_state/get, stored; the outbox decides

msg_send_fail {fail_msgid, fail_type}: WeCom accepted a message and did not deliver it. The
outbox row with that msgid is found: an HR notice or a draft reminder goes back to its feature
(held again for the next contact), a reply is marked failed and logged (kind and fail_type only).
fail_type 4 (48 h over), 6 (5 messages over) and 10 (the user refuses messages) close the window
until the customer writes; 5 (session closed) is state 4. The state is stored in wecom_peer, so a
restart keeps it.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.channels.wecom.api import WeComAPI, WeComError
from bot.channels.wecom.outbox import KF_QUOTA, PEOPLE
from bot.core.identity import WECHAT_KF, make_key
from bot.core.outbound import Outbound
from storage.db import Database
from storage.models_wecom import FAILED, KF_ENDED, KF_HUMAN, KF_PEOPLE, RETURNED, SENT
from storage.repositories import wecom as repo

log = logging.getLogger(__name__)

TAKEN = frozenset({1, 2, 4})  # change_type: from the pool, transferred, an ended session reopened
ENDED_CHANGE = 3  # change_type 结束会话
WINDOW_FAILS = frozenset({4, 6, 10})  # fail_type: 48 h over, 5 messages over, the user refuses
SESSION_CLOSED_FAIL = 5


class KfSessions:
    """The 客服 session state per customer, and what WeCom reports undelivered."""

    def __init__(self, api: WeComAPI, database: Database, outbound: Outbound, open_kfid: str) -> None:
        self.api, self.database, self.outbound, self.open_kfid = api, database, outbound, open_kfid

    async def on_event(self, message: dict[str, Any]) -> bool:
        """Apply a session_status_change or msg_send_fail item; False for anything else."""
        if message.get("msgtype") != "event":
            return False
        event = message.get("event") or {}
        kind, external = event.get("event_type"), str(event.get("external_userid") or "")
        if kind not in ("session_status_change", "msg_send_fail") or not external:
            return False
        key = make_key(WECHAT_KF, external)
        if kind == "session_status_change":
            await self.status_changed(key, _int(event.get("change_type")))
        else:
            await self.send_failed(key, str(event.get("fail_msgid") or ""), _int(event.get("fail_type")))
        return True

    async def status_changed(self, key: str, change_type: int) -> None:
        """A person took the session (quiet), or ended it (the bot answers the next message)."""
        if change_type in TAKEN:
            await self.set_state(key, KF_HUMAN)
        elif change_type == ENDED_CHANGE:
            await self.set_state(key, KF_ENDED)

    async def set_state(self, key: str, state: int) -> None:
        """Store the state; a person serving silences the bot's waiting messages."""
        async with self.database.session() as session:
            await repo.set_service_state(session=session, key=key, state=state)
            refs = []
            if state in KF_PEOPLE:
                refs = await repo.silence(session=session, key=key, error=PEOPLE)
            await session.commit()
        for ref in refs:
            await self.outbound.returned(key, ref)

    async def people_serve(self, key: str) -> bool:
        """True while a person serves the customer (asked again of WeCom when the store says so)."""
        async with self.database.session() as session:
            peer = await repo.load_peer(session=session, key=key)
        if peer is None or peer.service_state not in KF_PEOPLE:
            return False
        state = await self.learn(key)
        return state is None or state in KF_PEOPLE  # WeCom unreachable: stay quiet

    async def learn(self, key: str) -> int | None:
        """Ask WeCom for the session state and store it; None when it could not be asked."""
        external = key.partition(":")[2]
        try:
            answer = await self.api.call(
                "kf/service_state/get", {"open_kfid": self.open_kfid, "external_userid": external}
            )
        except WeComError as error:
            log.warning("WeCom kf: service_state/get failed (errcode %s)", error.errcode)
            return None
        state = _int(answer.get("service_state"))
        await self.set_state(key, state)
        return state

    async def send_failed(self, key: str, msgid: str, fail_type: int) -> None:
        """A message WeCom took was not delivered: back to its feature, or recorded as failed."""
        async with self.database.session() as session:
            if fail_type in WINDOW_FAILS:
                await repo.close_window(session=session, key=key, quota=KF_QUOTA)
            elif fail_type == SESSION_CLOSED_FAIL:
                await repo.set_service_state(session=session, key=key, state=KF_ENDED)
            row = await repo.find_sent(session=session, key=key, msgid=msgid) if msgid else None
            known = row is not None and row.id is not None and row.status == SENT
            ref = row.ref if row is not None else None
            if row is not None and row.id is not None and known:
                await repo.mark_undelivered(
                    session=session, entry_id=row.id, status=RETURNED if ref else FAILED,
                    error=f"fail_type {fail_type}",
                )  # fmt: skip
            await session.commit()
        if not known:  # purged after a day, or reported before
            log.warning("WeCom kf: a message was not delivered (fail_type %s), no longer known", fail_type)
            return
        what = ref.partition(":")[0] if ref else "reply"
        log.warning("WeCom kf: a %s message was not delivered (fail_type %s)", what, fail_type)
        if ref:
            await self.outbound.returned(key, ref)


def _int(value: Any) -> int:
    """An event's number (WeCom sends ints; be lenient with strings)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1
