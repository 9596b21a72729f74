"""Messages the bot sends on its own (reminders, follow-up news), through the user's channel.

The core never imports a channel: each channel registers, at start-up, a sender for its keys.
A sender returns False when it cannot deliver now (no such chat, a closed WeChat window), so
the caller can keep the message for later and say so. A channel whose sender refuses for a while
and then accepts again once the user writes (WeChat 微信客服: 48 hours / 5 messages after the
user's last message; the web chat, read only while the user is on the page) holds: messages held
for its users are retried at each of their turns. `holds` defaults to `identity.HOLDING_CHANNELS`
("wxkf", "web"). Other channels' held messages are retried by the hourly job only, so their turns
cost no lookup.

A sender that True-accepted a message may learn later that it was not delivered after all
(微信客服 reports msg_send_fail; a human servicer took the chat before it went out). For that,
the caller names what it sends, `ref="<kind>:<id>"` ("notice:12", "draft"), a channel registered
with `refs=True` receives it, and calls `returned(key, ref)` when the message did not reach the
user; the feature that registered `on_returned(kind, handler)` takes it back (the HR notice is
held again: HR sees "not told yet"). Without a handler a returned message is only logged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.core.identity import HOLDING_CHANNELS, channel_of
from dialogs.model import Reply

log = logging.getLogger(__name__)

Sender = Callable[..., Awaitable[bool]]  # (key, replies, lang) -> delivered now; `ref=` with refs=True
Returned = Callable[..., Awaitable[None]]  # (key=, ident=): a message of this kind was not delivered


class Outbound:
    """Channel name -> the sender of replies to that channel's keys."""

    def __init__(self) -> None:
        self._senders: dict[str, Sender] = {}
        self._holding: set[str] = set()
        self._refs: set[str] = set()
        self._returned: dict[str, Returned] = {}

    def register(
        self, channel: str, sender: Sender, *, holds: bool | None = None, refs: bool = False
    ) -> None:
        """Let `channel`'s keys receive messages through `sender` (`holds`, `refs`: the module docstring)."""
        self._senders[channel] = sender
        if holds if holds is not None else channel in HOLDING_CHANNELS:
            self._holding.add(channel)
        else:
            self._holding.discard(channel)
        if refs:
            self._refs.add(channel)
        else:
            self._refs.discard(channel)

    def on_returned(self, kind: str, handler: Returned) -> None:
        """Take back messages sent with `ref="<kind>:..."` that a channel could not deliver."""
        self._returned[kind] = handler

    async def returned(self, key: str, ref: str) -> bool:
        """A channel could not deliver the message `ref` to `key`: its feature takes it back."""
        kind, _, ident = ref.partition(":")
        handler = self._returned.get(kind)
        if handler is None:
            log.warning("a %s message was not delivered and nothing takes it back", kind)
            return False
        await handler(key=key, ident=ident)
        return True

    def holds(self, key: str) -> bool:
        """True when the key's channel may refuse now and accept after the user writes again."""
        return channel_of(key) in self._holding

    def reaches(self, key: str) -> bool:
        """True when a sender for the key's channel is registered."""
        channel = channel_of(key)
        return channel is not None and channel in self._senders

    async def send(self, key: str, replies: list[Reply], lang: str, *, ref: str | None = None) -> bool:
        """Send replies to a user; False when no channel of this process can deliver them now."""
        channel = channel_of(key)
        sender = self._senders.get(channel or "")
        if sender is None:
            log.debug("no sender for channel %s", channel)
            return False
        if ref is not None and channel in self._refs:
            return await sender(key, replies, lang, ref=ref)
        return await sender(key, replies, lang)
