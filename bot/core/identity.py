"""Who a conversation or a destination belongs to, whatever the channel.

A key is "<channel>:<id>": "tg:12345" (a Telegram user or chat), "wecom:zhangsan" (a WeCom
member of the county's app), "wxkf:wmXXXX" (a WeChat user in 微信客服), "web:<random>" (an
anonymous web chat), "console:local". Everything outside a channel's own folder handles keys
as opaque strings and asks this module what they mean.
"""

from __future__ import annotations

from dataclasses import dataclass

TELEGRAM = "tg"
WECOM = "wecom"
WECHAT_KF = "wxkf"
WEB = "web"
CONSOLE = "console"
CHANNELS = (TELEGRAM, WECOM, WECHAT_KF, WEB, CONSOLE)


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
