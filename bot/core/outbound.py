"""Messages the bot sends on its own (reminders, follow-up news), through the user's channel.

The core never imports a channel: each channel registers, at start-up, a sender for its keys.
A sender returns False when it cannot deliver now (no such chat, a closed WeChat window), so
the caller can keep the message for later and say so. A channel whose sender refuses for a while
and then accepts again once the user writes (WeChat 微信客服: 48 hours / 5 messages after the
user's last message; the web chat, read only while the user is on the page) holds: messages held
for its users are retried at each of their turns. `holds` defaults to `identity.HOLDING_CHANNELS`
("wxkf", "web"). Other channels' held messages are retried by the hourly job only, so their turns
cost no lookup.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.core.identity import HOLDING_CHANNELS, channel_of
from dialogs.model import Reply

log = logging.getLogger(__name__)

Sender = Callable[[str, list[Reply], str], Awaitable[bool]]


class Outbound:
    """Channel name -> the sender of replies to that channel's keys."""

    def __init__(self) -> None:
        self._senders: dict[str, Sender] = {}
        self._holding: set[str] = set()

    def register(self, channel: str, sender: Sender, *, holds: bool | None = None) -> None:
        """Let `channel`'s keys receive messages through `sender`; `holds`: see the module docstring."""
        self._senders[channel] = sender
        if holds if holds is not None else channel in HOLDING_CHANNELS:
            self._holding.add(channel)
        else:
            self._holding.discard(channel)

    def holds(self, key: str) -> bool:
        """True when the key's channel may refuse now and accept after the user writes again."""
        return channel_of(key) in self._holding

    def reaches(self, key: str) -> bool:
        """True when a sender for the key's channel is registered."""
        channel = channel_of(key)
        return channel is not None and channel in self._senders

    async def send(self, key: str, replies: list[Reply], lang: str) -> bool:
        """Send replies to a user; False when no channel of this process can deliver them now."""
        channel = channel_of(key)
        sender = self._senders.get(channel or "")
        if sender is None:
            log.debug("no sender for channel %s", channel)
            return False
        return await sender(key, replies, lang)
