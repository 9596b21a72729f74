"""Callbacks and 客服 messages as engine inputs, with the id that makes a redelivery visible.

App callbacks: text (MsgId), menu clicks and card presses (events: sender + time), anything
else is "other". 客服 messages (sync_msg): text and menu taps of the customer, enter_session
with its scene_param (a poster's "v_<village>").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from bot.channels.wecom.render import input_from_key, split_card_key
from bot.core.identity import WECHAT_KF, WECOM, make_key
from dialogs.model import Input

MENU_COMMANDS = frozenset({"start", "menu", "check", "intake", "help", "cancel", "language", "forget"})
CUSTOMER = 3  # sync_msg origin of the customer's own messages


@dataclass(frozen=True)
class Incoming:
    """One input for one user, and what the channel needs around it."""

    key: str
    user_input: Input
    digest: str  # the input's WeCom id, hashed: applied once
    button_id: str = ""  # a card press: the pressed button's id (a dialog press, or an HR button)
    label: str = ""  # and its label
    response_code: str = ""  # a card press: the one-use code to update the card
    only_new: bool = False  # enter_agent: a turn only for a user without a conversation
    inbound: bool = True  # a customer's own message (opens the 客服 window)
    welcome_code: str = ""  # 客服 enter_session: the one message allowed in reply


def digest(*parts: object) -> str:
    """The sha256 of an input's id parts (no user id stored in clear)."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def parse_text(text: str) -> Input:
    """A typed line: `/command arg` or text."""
    stripped = text.strip()
    if stripped.startswith("/"):
        head, _, arg = stripped.partition(" ")
        return Input.command(head[1:], arg.strip())
    return Input.text(text)


def _today(epoch: str | int | None) -> str:
    """The date of a WeCom timestamp (the engine has no clock)."""
    try:
        return datetime.fromtimestamp(int(epoch or 0), UTC).date().isoformat()
    except (TypeError, ValueError, OverflowError):
        return datetime.now(UTC).date().isoformat()


def from_app(fields: dict[str, str]) -> Incoming | None:
    """The input of a decrypted app callback; None for events the dialogs do not take."""
    user = fields.get("FromUserName", "")
    if not user:
        return None
    key, today = make_key(WECOM, user), _today(fields.get("CreateTime"))
    kind = fields.get("MsgType", "")
    if kind != "event":
        text = fields.get("Content", "") if kind == "text" else ""
        user_input = parse_text(text) if kind == "text" else Input("other")
        ident = fields.get("MsgId") or f"{user}:{fields.get('CreateTime')}:{kind}"
        return Incoming(key, replace(user_input, today=today), digest("app", "msg", ident))
    return _app_event(fields, key, user, today)


def _app_event(fields: dict[str, str], key: str, user: str, today: str) -> Incoming | None:
    """Menu clicks, card presses and opening the app."""
    event, event_key = fields.get("Event", ""), fields.get("EventKey", "")
    ident = digest("app", "event", user, fields.get("CreateTime"), event, event_key)
    if event == "click" and event_key in MENU_COMMANDS:
        return Incoming(key, replace(Input.command(event_key), today=today), ident)
    if event == "template_card_event":
        button_id, label = split_card_key(event_key)
        user_input = input_from_key(button_id)
        return Incoming(
            key, replace(user_input, today=today), ident, button_id=button_id, label=label,
            response_code=fields.get("ResponseCode", ""),
        )  # fmt: skip
    if event == "enter_agent":
        return Incoming(key, replace(Input.command("start"), today=today), ident, only_new=True)
    return None


def from_kf(message: dict) -> Incoming | None:
    """The input of one sync_msg item; None for servicer messages and bookkeeping events."""
    external = str(message.get("external_userid") or message.get("event", {}).get("external_userid") or "")
    if not external:
        return None
    key, today = make_key(WECHAT_KF, external), _today(message.get("send_time"))
    ident = digest("kf", message.get("msgid", ""))
    kind = message.get("msgtype")
    if kind == "event":
        event = message.get("event") or {}
        if event.get("event_type") != "enter_session":
            return None
        start = Input.command("start", str(event.get("scene_param") or ""))
        return Incoming(key, replace(start, today=today), ident, inbound=False,
                        welcome_code=str(event.get("welcome_code") or ""))  # fmt: skip
    if message.get("origin") != CUSTOMER:
        return None
    if kind == "text":
        text = message.get("text") or {}
        menu_id = str(text.get("menu_id") or "")
        user_input = input_from_key(menu_id) if menu_id else parse_text(str(text.get("content", "")))
        return Incoming(key, replace(user_input, today=today), ident)
    return Incoming(key, replace(Input("other"), today=today), ident)
