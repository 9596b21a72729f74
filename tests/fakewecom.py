"""A local fake of WeCom, for tests: the API half the bot calls, and the platform half that calls the bot.

Tests never reach WeCom. ``FakeWeCom`` serves the API on 127.0.0.1 (``WECOM_API_URL`` points the
bot at it) and plays WeCom's platform: it signs and encrypts every callback with the real
scheme and posts it to the bot's callback URL, timing the answer (WeCom gives 5 seconds)::

    async with FakeWeCom() as fake, wecom_bot(fake, tmp_path) as bot:
        await fake.member_sends("zhangsan", "/start")
        cards = await fake.wait_for_messages("zhangsan", 2)

API half (``/cgi-bin/...``), with WeCom's limits enforced and errcodes returned:

* ``gettoken`` (corp id + secret, 7200 s; ``expire_tokens()`` makes every token answer 42001;
  an unknown token is 40014; app tokens only for app calls, 客服 tokens only for ``kf/*``);
* ``message/send`` (agentid; text ≤ 2048 bytes; ``button_interaction`` cards with 1-6 buttons,
  unique keys ≤ 1024 bytes, a title ≤ 36 characters, a task_id of ``[0-9A-Za-z_-@]{1,128}``
  used once per app forever: 42014), returning ``msgid`` and, for cards, a ``response_code``;
* ``message/update_template_card`` (a response code works once, for 72 hours);
* ``menu/create`` (≤ 3 buttons, ≤ 5 under each); ``media/upload`` (multipart, returns media_id);
* ``kf/sync_msg`` (the callback's token, 10 minutes; cursor; limit ≤ 1000; ``page_size`` makes
  pages small and ``empty_pages`` inserts empty pages with has_more=1), ``kf/send_msg`` (only
  within 48 hours of the customer's last message and 5 messages per message: else 95999, a
  placeholder as the real code is not documented; only in session state 0 or 1: else 95018
  "send msg session status invalid", the code and message real servers answer when a person
  serves the customer; text ≤ 2048 bytes, msgmenu ≤ 10 items, head ≤ 1024 bytes, item ≤ 128
  bytes, id ≤ 64 bytes; returns a msgid), ``kf/send_msg_on_event`` (a welcome code works once,
  within 20 s), ``kf/service_state/get`` and ``kf/service_state/trans`` (states 0 未处理,
  1 智能助手接待, 2 待接入池, 3 人工接待, 4 已结束或未开始; see ``_TRANSITIONS``).
* Session states: a customer starts in 4; their message turns 4 into 0 (with ``auto_servicer``
  set, a person of that UserID takes a new session at once, without an event, as when the
  account's servicers are on duty); ``servicer_takes`` / ``servicer_ends`` change it the way a
  person in the WeCom client does, with a session_status_change event in the stream.
* Knobs: ``fail_next(path, errcode)`` (45009, 500 as -500, ...), ``send_delay`` seconds per
  send, ``late_next(path, seconds)``: the next calls of `path` are carried out and answered
  that late (a client that times out has sent it all the same), ``advance(seconds)`` moves
  the fake's clock (tokens, windows, codes), ``unknown_paths``; ``message_fails(external,
  fail_type)`` reports a sent 客服 message undelivered (msg_send_fail event).

Platform half: ``verify_url``, ``member_sends``, ``member_clicks_menu``, ``member_opens_app``,
``member_presses``, ``customer_enters`` (scene_param), ``customer_sends``, ``customer_taps``,
``servicer_takes``, ``servicer_ends``, ``message_fails``, ``post_raw`` (a callback delivered
again, or forged).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

from bot.channels.wecom.crypto import CallbackCrypto
from bot.channels.wecom.envelope import to_xml

TEXT_BYTES = 2048
CARD_BUTTONS = 6
CARD_KEY_BYTES = 1024
CARD_TITLE_CHARS = 36
TASK_ID = re.compile(r"^[0-9A-Za-z_\-@]{1,128}$")
MENU_ITEMS = 10
MENU_HEAD_BYTES = 1024
MENU_ITEM_BYTES = 128
MENU_ID_BYTES = 64
KF_WINDOW_S = 48 * 3600
KF_QUOTA = 5
KF_TOKEN_S = 600
WELCOME_S = 20
RESPONSE_CODE_S = 72 * 3600
CALLBACK_BUDGET_S = 5.0
# errcodes (the real ones where documented; 95999 and 95998 are this fake's placeholders)
INVALID_CREDENTIAL, INVALID_TOKEN, EXPIRED_TOKEN = 40001, 40014, 42001
TASK_ID_USED, BAD_PARAMETER, WINDOW_CLOSED, BAD_CODE = 42014, 40058, 95999, 95998
NO_RECEIVER = 81013
# Seen in real answers to kf/send_msg while a person serves the customer ("send msg session status
# invalid": github.com/langbot-app/LangBot/issues/1547, whyiyhw/chatgpt-wecom/issues/128).
SESSION_STATE_INVALID = 95018
# kf/service_state/trans to a state the flow chart does not allow: 95016 "不允许这种状态转换" as
# recalled from WeCom's error code list (unconfirmed).
TRANSITION_REFUSED = 95016
NEW, ASSISTANT, POOL, HUMAN, ENDED = 0, 1, 2, 3, 4  # kf service_state
SENDABLE = (NEW, ASSISTANT)  # kf/send_msg works only in these (WeCom's send_msg document)
# Allowed service_state changes (doc path/94669's chart, as recalled: unconfirmed in detail;
# an ended session changes only when the customer writes again).
_TRANSITIONS = {NEW: {ASSISTANT, POOL, HUMAN, ENDED}, ASSISTANT: {POOL, HUMAN, ENDED},
                POOL: {HUMAN, ENDED}, HUMAN: {HUMAN, ENDED}, ENDED: set()}  # fmt: skip
# session_status_change change_type: 1 从接待池接入会话, 2 转接会话, 3 结束会话, 4 重新接入已结束会话
TAKEN_FROM_POOL, TRANSFERRED, CLOSED, REOPENED = 1, 2, 3, 4


class FakeError(Exception):
    """An errcode answer."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(errmsg)
        self.errcode, self.errmsg = errcode, errmsg


@dataclass
class Sent:
    """A message the bot sent (app or 客服)."""

    to: str
    msgtype: str
    body: dict[str, Any]
    via: str  # "app", "kf", "kf_welcome"
    response_code: str = ""
    msgid: str = ""
    failed: int | None = None  # the fail_type of a msg_send_fail reported for it

    @property
    def text(self) -> str:
        """Text, card title + subtitle, or menu head."""
        if self.msgtype == "text":
            return self.body["text"]["content"]
        if self.msgtype == "template_card":
            card = self.body["template_card"]
            return f"{card['main_title'].get('title', '')}\n{card.get('sub_title_text', '')}".strip()
        if self.msgtype == "msgmenu":
            return self.body["msgmenu"].get("head_content", "")
        return ""

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(key or item id, label) of a card's buttons or a menu's items."""
        if self.msgtype == "template_card":
            return [(b["key"], b["text"]) for b in self.body["template_card"]["button_list"]]
        if self.msgtype == "msgmenu":
            return [(i["click"]["id"], i["click"]["content"]) for i in self.body["msgmenu"]["list"]]
        return []

    def key_of(self, choice_id: str) -> tuple[str, str]:
        """The (key, label) of the button for `choice_id`."""
        for key, label in self.buttons:
            if key.split("|")[0].split(":")[-1] == choice_id or key.split("|")[0] == choice_id:
                return key, label
        raise AssertionError(f"no button {choice_id!r} on {self.text!r}: {self.buttons}")


@dataclass
class _Token:
    secret_kind: str  # "app" or "kf"
    expires_at: float


@dataclass
class _Customer:
    last_message_at: float | None = None
    sent_since: int = 0
    state: int = ENDED  # "已结束或未开始" until the customer writes
    servicer: str = ""


@dataclass
class _Code:
    user: str
    issued_at: float
    used: bool = False


@dataclass
class CallbackAnswer:
    """What the bot answered to a callback, and how long it took."""

    status: int
    body: str
    seconds: float


@dataclass
class FakeWeCom:
    """The fake WeCom: API server, platform, and what happened."""

    corp_id: str = "wwfakecorp0001"
    agent_id: int = 1000002
    app_secret: str = "app-secret-0123456789"
    kf_secret: str = "kf-secret-0123456789"
    token: str = "CallbackToken42"
    aes_key: str = field(default_factory=lambda: base64.b64encode(os.urandom(32)).decode()[:43])
    open_kfid: str = "wkFAKEkf0001"
    page_size: int = 1000
    empty_pages: int = 0
    send_delay: float = 0.0
    auto_servicer: str = ""

    def __post_init__(self) -> None:
        self.offset = 0.0
        self.sent: list[Sent] = []
        self._by_user: dict[str, list[Sent]] = {}
        self.card_updates: list[dict[str, Any]] = []
        self.menus: list[dict[str, Any]] = []
        self.uploads: list[dict[str, Any]] = []
        self.calls: list[tuple[str, int]] = []  # (path, errcode) of every API call
        self.sync_cursors: list[str] = []  # the cursor of every kf/sync_msg read
        self.unknown_paths: list[str] = []
        self.gettoken_calls = 0
        self.group_chats: set[str] = set()  # chat ids of group chats the app made (appchat/create)
        self.recalled: list[str] = []
        self._recent_texts: dict[tuple[str, str], float] = {}
        self.callbacks: list[CallbackAnswer] = []
        self.bot_url = ""  # http://127.0.0.1:PORT of the bot, set by the harness
        self.app_path, self.kf_path = "/wecom/app", "/wecom/kf"
        self._tokens: dict[str, _Token] = {}
        self._task_ids: set[str] = set()
        self._codes: dict[str, _Code] = {}
        self._customers: dict[str, _Customer] = {}
        self._stream: list[dict[str, Any]] = []
        self._sync_tokens: dict[str, float] = {}
        self._welcome: dict[str, tuple[str, float]] = {}  # code -> (external user, issued at)
        self._failures: dict[str, list[int]] = {}
        self._late: dict[str, list[float]] = {}
        self._msgids = itertools.count(1)
        self._changed = asyncio.Condition()
        self.crypto = CallbackCrypto(self.token, self.aes_key, self.corp_id)
        self._runner: web.AppRunner | None = None
        self._http: ClientSession | None = None
        self.base_url = ""

    # ---------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> FakeWeCom:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/cgi-bin/{path:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/cgi-bin"
        self._http = ClientSession(timeout=ClientTimeout(total=30))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def settings(self) -> dict[str, Any]:
        """Settings pointing a bot at this fake, with both channels configured."""
        return {
            "wecom_corp_id": self.corp_id, "wecom_agent_id": self.agent_id,
            "wecom_app_secret": self.app_secret, "wecom_callback_token": self.token,
            "wecom_callback_aes_key": self.aes_key, "wecom_kf_secret": self.kf_secret,
            "wecom_kf_open_kfid": self.open_kfid, "wecom_api_url": self.base_url,
        }  # fmt: skip

    def now(self) -> float:
        """The fake's clock (the bot under test is given the same one)."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the clock: tokens, 客服 windows and codes expire without sleeping."""
        self.offset += seconds

    def expire_tokens(self) -> None:
        """Every access token issued so far answers 42001 from now on."""
        for token in self._tokens.values():
            token.expires_at = 0.0

    def late_next(self, path: str, *seconds: float) -> None:
        """The next calls of `path` are carried out, and answered after these many seconds."""
        self._late.setdefault(path, []).extend(seconds)

    def fail_next(self, path: str, *errcodes: int) -> None:
        """The next calls of `path` answer these errcodes (-500: HTTP 500) instead of working."""
        self._failures.setdefault(path, []).extend(errcodes)

    # ---------------------------------------------------------------- what happened

    def messages_to(self, user: str) -> list[Sent]:
        """Messages sent to a member or customer, in order."""
        return list(self._by_user.get(user, ()))

    def _record(self, message: Sent) -> None:
        self.sent.append(message)
        self._by_user.setdefault(message.to, []).append(message)

    def last_message(self, user: str) -> Sent:
        """The last one."""
        messages = self.messages_to(user)
        assert messages, f"nothing was sent to {user}"
        return messages[-1]

    def last_with_buttons(self, user: str) -> Sent:
        """The last card or menu sent to a user."""
        for message in reversed(self.messages_to(user)):
            if message.buttons:
                return message
        raise AssertionError(f"no card or menu was sent to {user}")

    async def wait_for_messages(self, user: str, count: int, timeout: float = 10) -> list[Sent]:
        """Wait until `count` messages were sent to `user`; return them all."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self._by_user.get(user, ())) >= count), timeout
            )
        return self.messages_to(user)

    async def wait_until(self, predicate: Any, timeout: float = 10) -> None:
        """Wait until `predicate()` holds."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ---------------------------------------------------------------- platform half: callbacks

    async def verify_url(self, path: str | None = None) -> CallbackAnswer:
        """What the admin console does when the callback URL is saved: GET with an echostr."""
        echo = str(secrets.randbelow(10**19))
        encrypted = self.crypto.encrypt(echo)
        timestamp, nonce = str(int(self.now())), str(secrets.randbelow(10**9))
        params = {"msg_signature": self.crypto.sign(timestamp, nonce, encrypted), "timestamp": timestamp,
                  "nonce": nonce, "echostr": encrypted}  # fmt: skip
        answer = await self._request("GET", path or self.app_path, params=params)
        assert answer.status != 200 or answer.body == echo, "the bot must answer the decrypted echostr"
        return answer

    async def post_message(self, fields: dict[str, str | int], path: str | None = None) -> CallbackAnswer:
        """Encrypt, sign and POST one message to the bot, as WeCom does."""
        encrypted = self.crypto.encrypt(to_xml(fields))
        envelope = to_xml({"ToUserName": self.corp_id, "AgentID": self.agent_id, "Encrypt": encrypted})
        timestamp, nonce = str(int(self.now())), str(secrets.randbelow(10**9))
        params = {"msg_signature": self.crypto.sign(timestamp, nonce, encrypted), "timestamp": timestamp,
                  "nonce": nonce}  # fmt: skip
        return await self.post_raw(envelope.encode(), params, path or self.app_path)

    async def post_raw(self, body: bytes, params: dict[str, str], path: str) -> CallbackAnswer:
        """POST a body as it is (a forged or oversized callback)."""
        answer = await self._request("POST", path, params=params, data=body)
        self.callbacks.append(answer)
        return answer

    async def _request(self, method: str, path: str, **kwargs: Any) -> CallbackAnswer:
        assert self._http is not None and self.bot_url, "start the bot and set fake.bot_url first"
        started = time.perf_counter()
        async with self._http.request(method, self.bot_url + path, **kwargs) as response:
            body = await response.text()
        return CallbackAnswer(response.status, body, time.perf_counter() - started)

    def _member_fields(self, user: str, msg_type: str, **extra: str | int) -> dict[str, str | int]:
        return {"ToUserName": self.corp_id, "FromUserName": user, "CreateTime": int(self.now()),
                "MsgType": msg_type, "AgentID": self.agent_id, **extra}  # fmt: skip

    async def member_sends(self, user: str, text: str, msgid: int | None = None) -> CallbackAnswer:
        """A member types a message in the app."""
        fields = self._member_fields(user, "text", Content=text, MsgId=msgid or next(self._msgids) + 10**15)
        return await self.post_message(fields)

    async def member_sends_image(self, user: str) -> CallbackAnswer:
        """A member sends a picture."""
        fields = self._member_fields(user, "image", PicUrl="http://127.0.0.1/x.jpg", MediaId="m1",
                                     MsgId=next(self._msgids) + 10**15)  # fmt: skip
        return await self.post_message(fields)

    async def member_clicks_menu(self, user: str, key: str) -> CallbackAnswer:
        """A member taps an item of the app menu."""
        return await self.post_message(self._member_fields(user, "event", Event="click", EventKey=key))

    async def member_opens_app(self, user: str) -> CallbackAnswer:
        """A member opens the app (enter_agent)."""
        return await self.post_message(self._member_fields(user, "event", Event="enter_agent", EventKey=""))

    async def member_presses(self, user: str, card: Sent, choice_id: str) -> CallbackAnswer:
        """A member presses a card's button: a template_card_event with a fresh one-use code."""
        assert card.msgtype == "template_card", "only cards have buttons in the app"
        key, _ = card.key_of(choice_id)
        code = secrets.token_hex(16)
        self._codes[code] = _Code(user, self.now())
        fields = self._member_fields(
            user, "event", Event="template_card_event", EventKey=key,
            TaskId=card.body["template_card"]["task_id"], CardType="button_interaction", ResponseCode=code,
        )  # fmt: skip
        return await self.post_message(fields)

    # ---------------------------------------------------------------- platform half: 客服

    def _stream_add(self, message: dict[str, Any]) -> None:
        message.setdefault("msgid", secrets.token_hex(12))
        message.setdefault("open_kfid", self.open_kfid)
        message.setdefault("send_time", int(self.now()))
        self._stream.append(message)

    def kf_notice(self) -> dict[str, Any]:
        """The fields of a kf_msg_or_event callback, with a fresh sync token (valid 10 minutes)."""
        sync_token = secrets.token_hex(8)
        self._sync_tokens[sync_token] = self.now()
        return {"ToUserName": self.corp_id, "CreateTime": int(self.now()), "MsgType": "event",
                "Event": "kf_msg_or_event", "Token": sync_token, "OpenKfId": self.open_kfid}  # fmt: skip

    async def kf_notify(self) -> CallbackAnswer:
        """The kf_msg_or_event callback that tells the bot to read the stream."""
        return await self.post_message(self.kf_notice(), self.kf_path)

    async def customer_enters(
        self, external: str, scene_param: str = "", welcome: bool = True
    ) -> CallbackAnswer:
        """A WeChat user opens the 客服 chat (e.g. by scanning a poster with scene_param)."""
        event: dict[str, Any] = {
            "event_type": "enter_session", "open_kfid": self.open_kfid, "external_userid": external,
            "scene": "poster", "scene_param": scene_param,
        }  # fmt: skip
        if welcome:
            code = secrets.token_hex(10)
            self._welcome[code] = (external, self.now())
            event["welcome_code"] = code
        self._stream_add({"origin": 4, "msgtype": "event", "event": event})
        return await self.kf_notify()

    def customer_message(self, external: str, text: dict[str, Any], msgid: str | None = None) -> None:
        """A customer's message put in the stream, without the callback that announces it."""
        customer = self._customers.setdefault(external, _Customer())
        customer.last_message_at, customer.sent_since = self.now(), 0
        if customer.state == ENDED:
            customer.state = NEW
        if customer.state == NEW and self.auto_servicer:
            customer.state, customer.servicer = HUMAN, self.auto_servicer
        message: dict[str, Any] = {"origin": 3, "external_userid": external, "msgtype": "text", "text": text}
        if msgid:
            message["msgid"] = msgid
        self._stream_add(message)

    async def customer_sends(self, external: str, text: str, msgid: str | None = None) -> CallbackAnswer:
        """A customer types a message."""
        self.customer_message(external, {"content": text}, msgid)
        return await self.kf_notify()

    async def customer_taps(self, external: str, menu: Sent, choice_id: str) -> CallbackAnswer:
        """A customer taps a menu item: it arrives as their text, with the item's id as menu_id."""
        assert menu.msgtype == "msgmenu"
        item_id, label = menu.key_of(choice_id)
        self.customer_message(external, {"content": label, "menu_id": item_id})
        return await self.kf_notify()

    def service_state(self, external: str) -> int:
        """The customer's session state."""
        return self._customers.setdefault(external, _Customer()).state

    async def servicer_takes(
        self, external: str, servicer: str = "hr_wang", change_type: int = TAKEN_FROM_POOL, event: bool = True
    ) -> CallbackAnswer | None:
        """A person takes the session in the WeCom client (from the pool, transferred, or reopened);
        `event=False`: WeCom gave it to them with no event the bot reads (an on-duty servicer)."""
        customer = self._customers.setdefault(external, _Customer())
        old = customer.servicer
        customer.state, customer.servicer = HUMAN, servicer
        if not event:
            return None
        change = {"event_type": "session_status_change", "open_kfid": self.open_kfid,
                  "external_userid": external, "change_type": change_type,
                  "new_servicer_userid": servicer}  # fmt: skip
        if change_type == TRANSFERRED:
            change["old_servicer_userid"] = old
        self._stream_add({"origin": 4, "msgtype": "event", "event": change})
        return await self.kf_notify()

    async def servicer_ends(self, external: str) -> CallbackAnswer:
        """The person ends the session (结束会话)."""
        customer = self._customers.setdefault(external, _Customer())
        event = {"event_type": "session_status_change", "open_kfid": self.open_kfid,
                 "external_userid": external, "change_type": CLOSED,
                 "old_servicer_userid": customer.servicer}  # fmt: skip
        customer.state, customer.servicer = ENDED, ""
        self._stream_add({"origin": 4, "msgtype": "event", "event": event})
        return await self.kf_notify()

    async def message_fails(
        self, external: str, fail_type: int, message: Sent | None = None
    ) -> CallbackAnswer:
        """WeCom reports a 客服 message it had accepted undelivered (msg_send_fail; default: the last)."""
        failed = message or [m for m in self.messages_to(external) if m.via == "kf"][-1]
        failed.failed = fail_type
        event = {"event_type": "msg_send_fail", "open_kfid": self.open_kfid, "external_userid": external,
                 "fail_msgid": failed.msgid, "fail_type": fail_type}  # fmt: skip
        self._stream_add({"origin": 4, "msgtype": "event", "event": event})
        return await self.kf_notify()

    # ---------------------------------------------------------------- API half

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        handler = getattr(self, "_api_" + path.replace("/", "_"), None)
        if handler is None:
            self.unknown_paths.append(path)
            return web.json_response({"errcode": 404, "errmsg": "unknown path"}, status=404)
        failures = self._failures.get(path)
        if failures:
            errcode = failures.pop(0)
            self.calls.append((path, errcode))
            if errcode <= -500:
                return web.Response(status=-errcode, text="server error")
            return web.json_response({"errcode": errcode, "errmsg": "injected"})
        try:
            body = await handler(request)
        except FakeError as error:
            self.calls.append((path, error.errcode))
            return web.json_response({"errcode": error.errcode, "errmsg": error.errmsg})
        self.calls.append((path, 0))
        await self._notify()
        late = self._late.get(path)
        if late:  # carried out; the answer is late (the client may have given up)
            await asyncio.sleep(late.pop(0))
        return web.json_response({"errcode": 0, "errmsg": "ok", **body})

    def _check_token(self, request: web.Request, kind: str) -> None:
        token = self._tokens.get(request.query.get("access_token", ""))
        if token is None or token.secret_kind != kind:
            raise FakeError(INVALID_TOKEN, "invalid access_token")
        if token.expires_at <= self.now():
            raise FakeError(EXPIRED_TOKEN, "access_token expired")

    async def _api_gettoken(self, request: web.Request) -> dict[str, Any]:
        self.gettoken_calls += 1
        query = request.query
        kinds = {self.app_secret: "app", self.kf_secret: "kf"}
        if query.get("corpid") != self.corp_id or query.get("corpsecret") not in kinds:
            raise FakeError(INVALID_CREDENTIAL, "invalid credential")
        token = secrets.token_hex(16)
        self._tokens[token] = _Token(kinds[query["corpsecret"]], self.now() + 7200)
        return {"access_token": token, "expires_in": 7200}

    async def _delay(self) -> None:
        if self.send_delay:
            await asyncio.sleep(self.send_delay)

    async def _api_message_send(self, request: web.Request) -> dict[str, Any]:
        self._check_token(request, "app")
        body = await request.json()
        if body.get("agentid") != self.agent_id:
            raise FakeError(BAD_PARAMETER, "invalid agentid")
        if not body.get("touser"):
            raise FakeError(NO_RECEIVER, "no valid receiver")
        kind = body.get("msgtype")
        code = ""
        if self._duplicate(body["touser"], body):
            return {"msgid": secrets.token_hex(8)}  # dropped: the same content again within the interval
        if kind == "text":
            _check_bytes(body["text"]["content"], TEXT_BYTES, "text.content")
        elif kind == "template_card":
            self._check_card(body["template_card"])
            code = secrets.token_hex(16)
            self._codes[code] = _Code(body["touser"], self.now())
        elif kind in ("file", "image"):
            if body[kind].get("media_id") not in {u["media_id"] for u in self.uploads}:
                raise FakeError(BAD_PARAMETER, "unknown media_id")
        else:
            raise FakeError(BAD_PARAMETER, f"msgtype {kind} not faked")
        await self._delay()
        self._record(Sent(body["touser"], kind, body, "app", code))
        result: dict[str, Any] = {"msgid": secrets.token_hex(8)}
        if code:
            result["response_code"] = code
        return result

    def _duplicate(self, receiver: str, body: dict[str, Any]) -> bool:
        """message/send's duplicate check: the same text to the same receiver within the interval."""
        if not body.get("enable_duplicate_check") or body.get("msgtype") != "text":
            return False
        interval = min(int(body.get("duplicate_check_interval", 1800)), 4 * 3600)
        content = (receiver, body["text"]["content"])
        seen = self._recent_texts.get(content)
        self._recent_texts[content] = self.now()
        return seen is not None and self.now() - seen < interval

    async def _api_appchat_send(self, request: web.Request) -> dict[str, Any]:
        self._check_token(request, "app")
        body = await request.json()
        if body.get("chatid") not in self.group_chats:
            raise FakeError(86003, "chat not found")
        kind = body.get("msgtype")
        if kind == "text":
            _check_bytes(body["text"]["content"], TEXT_BYTES, "text.content")
        elif kind not in ("file", "image") or body[kind].get("media_id") not in {
            u["media_id"] for u in self.uploads
        }:
            raise FakeError(BAD_PARAMETER, "msgtype/media_id")
        self._record(Sent("group:" + body["chatid"], kind, body, "appchat"))
        return {}

    async def _api_message_recall(self, request: web.Request) -> dict[str, Any]:
        self._check_token(request, "app")
        self.recalled.append((await request.json()).get("msgid", ""))
        return {}

    def _check_card(self, card: dict[str, Any]) -> None:
        if card.get("card_type") != "button_interaction":
            raise FakeError(BAD_PARAMETER, "card_type not faked")
        task_id = str(card.get("task_id", ""))
        if not TASK_ID.match(task_id) or task_id in self._task_ids:
            raise FakeError(TASK_ID_USED, "taskid has existed or empty or exceed max len")
        buttons = card.get("button_list") or []
        if not 1 <= len(buttons) <= CARD_BUTTONS:
            raise FakeError(BAD_PARAMETER, "button_list size")
        keys = [b.get("key", "") for b in buttons]
        if len(set(keys)) != len(keys) or any(not k or len(k.encode()) > CARD_KEY_BYTES for k in keys):
            raise FakeError(BAD_PARAMETER, "button key")
        title = (card.get("main_title") or {}).get("title", "")
        if not title or len(title) > CARD_TITLE_CHARS:
            raise FakeError(BAD_PARAMETER, "main_title.title")
        if len(card.get("sub_title_text", "")) > 160:
            raise FakeError(BAD_PARAMETER, "sub_title_text")
        self._task_ids.add(task_id)

    async def _api_message_update_template_card(self, request: web.Request) -> dict[str, Any]:
        self._check_token(request, "app")
        body = await request.json()
        code = self._codes.get(body.get("response_code", ""))
        if code is None or code.used or self.now() - code.issued_at > RESPONSE_CODE_S:
            raise FakeError(BAD_CODE, "invalid response_code")
        if body.get("agentid") != self.agent_id or code.user not in body.get("userids", []):
            raise FakeError(BAD_PARAMETER, "userids/agentid")
        code.used = True
        self.card_updates.append(body)
        return {"invaliduser": []}

    async def _api_menu_create(self, request: web.Request) -> dict[str, Any]:
        self._check_token(request, "app")
        if request.query.get("agentid") != str(self.agent_id):
            raise FakeError(BAD_PARAMETER, "invalid agentid")
        body = await request.json()
        buttons = body.get("button") or []
        if not 1 <= len(buttons) <= 3 or any(len(b.get("sub_button", [])) > 5 for b in buttons):
            raise FakeError(BAD_PARAMETER, "menu size")
        self.menus.append(body)
        return {}

    async def _api_media_upload(self, request: web.Request) -> dict[str, Any]:
        self._check_token(request, "app")
        reader = await request.multipart()
        part = await reader.next()
        data = await part.read() if part is not None else b""  # type: ignore[union-attr]
        media_id = secrets.token_hex(12)
        self.uploads.append({"type": request.query.get("type"), "media_id": media_id, "size": len(data),
                             "filename": getattr(part, "filename", None)})  # fmt: skip
        return {"type": request.query.get("type"), "media_id": media_id, "created_at": str(int(self.now()))}

    async def _api_kf_sync_msg(self, request: web.Request) -> dict[str, Any]:
        self._check_token(request, "kf")
        body = await request.json()
        issued = self._sync_tokens.get(body.get("token", ""))
        if issued is None or self.now() - issued > KF_TOKEN_S:
            raise FakeError(BAD_PARAMETER, "invalid sync token")
        if body.get("open_kfid") != self.open_kfid or not 1 <= int(body.get("limit", 1000)) <= 1000:
            raise FakeError(BAD_PARAMETER, "open_kfid/limit")
        cursor = str(body.get("cursor") or "c0")
        self.sync_cursors.append(cursor)
        if not re.fullmatch(r"c\d+", cursor):
            raise FakeError(BAD_PARAMETER, "invalid cursor")
        start = int(cursor[1:])
        if self.empty_pages:
            self.empty_pages -= 1
            return {"next_cursor": f"c{start}", "has_more": 1, "msg_list": []}
        end = min(len(self._stream), start + min(self.page_size, int(body.get("limit", 1000))))
        return {"next_cursor": f"c{end}", "has_more": int(end < len(self._stream)),
                "msg_list": self._stream[start:end]}  # fmt: skip

    async def _api_kf_send_msg(self, request: web.Request) -> dict[str, Any]:
        self._check_token(request, "kf")
        body = await request.json()
        if body.get("open_kfid") != self.open_kfid:
            raise FakeError(BAD_PARAMETER, "open_kfid")
        customer = self._customers.get(body.get("touser", ""))
        now = self.now()
        last = customer.last_message_at if customer is not None else None
        if customer is None or last is None or now - last >= KF_WINDOW_S or customer.sent_since >= KF_QUOTA:
            raise FakeError(WINDOW_CLOSED, "not allowed: outside the 48 h / 5 message window")
        if customer.state not in SENDABLE:
            raise FakeError(SESSION_STATE_INVALID, "send msg session status invalid")
        _check_kf_message(body)
        await self._delay()
        customer.sent_since += 1
        msgid = secrets.token_hex(8)
        self._record(Sent(body["touser"], body["msgtype"], body, "kf", msgid=msgid))
        return {"msgid": msgid}

    async def _api_kf_send_msg_on_event(self, request: web.Request) -> dict[str, Any]:
        self._check_token(request, "kf")
        body = await request.json()
        found = self._welcome.pop(body.get("code", ""), None)
        if found is None or self.now() - found[1] > WELCOME_S:
            raise FakeError(BAD_CODE, "invalid welcome code")
        _check_kf_message(body)
        self._record(Sent(found[0], body["msgtype"], body, "kf_welcome"))
        return {"msgid": secrets.token_hex(8)}

    async def _api_kf_service_state_get(self, request: web.Request) -> dict[str, Any]:
        self._check_token(request, "kf")
        body = await request.json()
        if body.get("open_kfid") != self.open_kfid or not body.get("external_userid"):
            raise FakeError(BAD_PARAMETER, "open_kfid/external_userid")
        customer = self._customers.setdefault(body["external_userid"], _Customer())
        answer: dict[str, Any] = {"service_state": customer.state}
        if customer.state == HUMAN:
            answer["servicer_userid"] = customer.servicer
        return answer

    async def _api_kf_service_state_trans(self, request: web.Request) -> dict[str, Any]:
        self._check_token(request, "kf")
        body = await request.json()
        if body.get("open_kfid") != self.open_kfid or not body.get("external_userid"):
            raise FakeError(BAD_PARAMETER, "open_kfid/external_userid")
        customer = self._customers.setdefault(body["external_userid"], _Customer())
        target = int(body.get("service_state", -1))
        if target not in _TRANSITIONS.get(customer.state, set()):
            raise FakeError(TRANSITION_REFUSED, "service state transition not allowed")
        if target == HUMAN and not body.get("servicer_userid"):
            raise FakeError(BAD_PARAMETER, "servicer_userid required for state 3")
        first = target in (POOL, HUMAN) and customer.state not in (POOL, HUMAN)
        customer.state, customer.servicer = target, str(body.get("servicer_userid") or "")
        return {"msg_code": secrets.token_hex(8)} if first or target == ENDED else {}

    async def _api_kf_add_contact_way(self, request: web.Request) -> dict[str, Any]:
        self._check_token(request, "kf")
        body = await request.json()
        return {
            "url": f"https://work.weixin.qq.com/kfid/{body.get('open_kfid')}?enc_scene={body.get('scene')}"
        }


def _check_bytes(text: str, limit: int, name: str) -> None:
    if not text or len(text.encode()) > limit:
        raise FakeError(BAD_PARAMETER, f"{name} empty or over {limit} bytes")


def _check_kf_message(body: dict[str, Any]) -> None:
    kind = body.get("msgtype")
    if kind == "text":
        _check_bytes(body["text"]["content"], TEXT_BYTES, "text.content")
    elif kind == "msgmenu":
        menu = body["msgmenu"]
        if len(menu.get("head_content", "").encode()) > MENU_HEAD_BYTES:
            raise FakeError(BAD_PARAMETER, "head_content")
        items = menu.get("list") or []
        if not 1 <= len(items) <= MENU_ITEMS:
            raise FakeError(BAD_PARAMETER, "msgmenu list size")
        for item in items:
            click = item.get("click") or {}
            if len(str(click.get("id", "")).encode()) > MENU_ID_BYTES:
                raise FakeError(BAD_PARAMETER, "msgmenu id")
            _check_bytes(str(click.get("content", "")), MENU_ITEM_BYTES, "msgmenu content")
    else:
        raise FakeError(BAD_PARAMETER, f"msgtype {kind} not faked")
