"""Who a conversation or a destination belongs to, whatever the channel.

A key is "<channel>:<id>": "tg:12345" (a Telegram user or chat), "wecom:zhangsan" (a WeCom
member of the county's app), "wxkf:wmXXXX" (a WeChat user in 微信客服), "web:<random>" (an
anonymous web chat), "console:local". Everything outside a channel's own folder handles keys
as opaque strings and asks this module what they mean.

Keys also name where the bot sends on its own: an HR destination (digests, reminders) or an HR
chat is a key too. A group chat is "tg:-100..." on Telegram (negative ids are groups there) and
"wecom:group:<chatid>" for a WeCom group chat made by the app (appchat; chatid is [0-9a-zA-Z],
and ":" never occurs in a WeCom UserID, so a member's key cannot look like a group's).
`group_key` makes such keys and `is_group` recognises them, for every channel.
"""

from __future__ import annotations

from dataclasses import dataclass

TELEGRAM = "tg"
WECOM = "wecom"
WECHAT_KF = "wxkf"
WEB = "web"
CONSOLE = "console"
CHANNELS = (TELEGRAM, WECOM, WECHAT_KF, WEB, CONSOLE)
# Channels that cannot reach a user at any time, only for a while after the user wrote (微信客服:
# 48 hours and 5 messages; the web chat: while the page is open): bot.core.outbound retries what
# it holds for them at their next contact.
HOLDING_CHANNELS = frozenset({WECHAT_KF, WEB})
GROUP_PREFIX = "group:"  # the id of a group chat's key, on channels whose ids do not tell groups apart


@dataclass(frozen=True)
class UserKey:
    """A parsed key: the channel and the channel's own id for the user or chat."""

    channel: str
    id: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.id}"


def parse_key(key: str) -> UserKey | None:
    """The channel and id of a key; None for anything that is not "<known channel>:<id>"."""
    channel, sep, ident = key.partition(":")
    if not sep or not ident or channel not in CHANNELS:
        return None
    return UserKey(channel, ident)


def make_key(channel: str, ident: str | int) -> str:
    """The key of a channel's user or chat."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    return f"{channel}:{ident}"


def channel_of(key: str) -> str | None:
    """The channel a key belongs to, or None."""
    parsed = parse_key(key)
    return parsed.channel if parsed else None


def telegram_id(key: str) -> int | None:
    """The Telegram user or chat id inside a "tg:" key; None for other channels."""
    parsed = parse_key(key)
    if parsed is None or parsed.channel != TELEGRAM or not parsed.id.lstrip("-").isdigit():
        return None
    return int(parsed.id)


def group_key(channel: str, chat: str | int) -> str:
    """The key of a channel's group chat: "tg:-100123" (as Telegram gives it), "wecom:group:abc"."""
    if channel == TELEGRAM:
        return make_key(channel, chat)
    return make_key(channel, f"{GROUP_PREFIX}{chat}")


def is_group(key: str) -> bool:
    """Whether a key names a group chat rather than one person."""
    parsed = parse_key(key)
    if parsed is None:
        return False
    if parsed.channel == TELEGRAM:
        return parsed.id.startswith("-")
    return parsed.id.startswith(GROUP_PREFIX)


def is_key(key: str) -> bool:
    """Whether a text is a well-formed key of a known channel (what `outreach hr add --to` takes)."""
    return parse_key(key) is not None
