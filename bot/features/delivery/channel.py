"""What the delivery worker needs from a channel to send an HR destination its digests.

The worker (bot.features.delivery.worker) never imports a channel: each channel registers one
`DigestChannel` for its keys in a `DigestChannels` registry at start-up (Telegram does it in
bot/channels/telegram/digests.py), and the worker picks the one for a destination's key. A
destination's `address` is its full key ("tg:-1001234", "wecom:zhangsan", "wecom:group:abc").

    send_text(address, text, dedupe_key=, before_try=) -> message id   the digest, placeholders, alerts
    edit_text(address, message_id, text, before_try=)                 only when `can_edit`
    send_file(address, name, data, caption, before_try=) -> id         the spreadsheet
    send_image(address, name, data, caption, before_try=) -> id        the chart
    delete(address, message_id, before_try=)                           best effort (stray placeholders)
    fits(text) -> bool                                                 one message holds the text

What a channel cannot do it says with two attributes, and the worker chooses its steps by them:

    can_edit        the text of a sent message can be replaced (Telegram yes, WeCom no). With it, a
                    digest is a placeholder edited into the content (worker.py's docstring).
    dedupe_seconds  how long the platform (or the channel) drops a repeated `send_text` of the
                    same text under the same `dedupe_key` (WeCom's message/send takes
                    enable_duplicate_check with duplicate_check_interval up to 4 h). A channel
                    without edit must have it: the digest's content is then sent once with its
                    dedupe key, and a retry after a crash between sending and recording is dropped.

Errors: a call raises `Rejected` when sending it again unchanged cannot help (chat gone, bot
removed, bad request; `not_modified` / `message_gone` on an edit), `Unreachable` when its own
retries ran out (network, 5xx, rate limits without end), `Moved` when the chat now has another
key (a Telegram group that became a supergroup). Pacing and retries (429 retry_after, back-off)
are the channel's business; before each try it awaits `before_try()` when given, which raises
(the worker's lease was lost) to stop it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from bot.core.identity import channel_of

BeforeTry = Callable[[], Awaitable[None]] | None


class DeliveryError(Exception):
    """A call that failed for this round (counts one failure of the destination)."""


class Rejected(DeliveryError):
    """The channel refused the call; sending it again unchanged cannot help."""

    def __init__(self, message: str, *, not_modified: bool = False, message_gone: bool = False) -> None:
        """`not_modified`: an edit changed nothing (an earlier one went through); `message_gone`:
        the message to edit no longer exists."""
        super().__init__(message)
        self.not_modified = not_modified
        self.message_gone = message_gone


class Unreachable(DeliveryError):
    """Retries ran out (network errors, timeouts, 5xx, or rate limits without end)."""


class Moved(DeliveryError):
    """The chat now has another key; the worker stores it and tries there."""

    def __init__(self, address: str) -> None:
        """Remember the new key."""
        super().__init__(f"chat moved to {address}")
        self.address = address


@runtime_checkable
class DigestChannel(Protocol):
    """One channel's way of sending a destination its digests (see the module docstring)."""

    can_edit: bool
    dedupe_seconds: float

    def fits(self, text: str) -> bool:
        """Whether one message of this channel holds `text` (the digest is one message)."""
        ...

    async def send_text(
        self, address: str, text: str, *, dedupe_key: str | None = None, before_try: BeforeTry = None
    ) -> str:
        """Send a text; the id of the message (as a string)."""
        ...

    async def edit_text(
        self, address: str, message_id: str, text: str, *, before_try: BeforeTry = None
    ) -> None:
        """Replace a sent message's text (only called when `can_edit`)."""
        ...

    async def send_file(
        self, address: str, name: str, data: bytes, caption: str, *, before_try: BeforeTry = None
    ) -> str:
        """Send a document (the digest's spreadsheet); its message id."""
        ...

    async def send_image(
        self, address: str, name: str, data: bytes, caption: str, *, before_try: BeforeTry = None
    ) -> str:
        """Send a picture (the digest's chart); its message id."""
        ...

    async def delete(self, address: str, message_id: str, *, before_try: BeforeTry = None) -> None:
        """Delete a message of ours (a stray placeholder); channels that cannot may do nothing."""
        ...


class DigestChannels:
    """Channel name -> its DigestChannel; filled by the channels a process serves, at start-up."""

    def __init__(self) -> None:
        self._channels: dict[str, DigestChannel] = {}

    def register(self, channel: str, implementation: DigestChannel) -> None:
        """Let destinations whose key belongs to `channel` be served by `implementation`."""
        if not implementation.can_edit and implementation.dedupe_seconds <= 0:
            raise ValueError(f"channel {channel!r}: without edit, exactly once needs dedupe_seconds > 0")
        self._channels[channel] = implementation

    def for_key(self, key: str) -> DigestChannel | None:
        """The implementation for a destination's key; None when this process does not serve it."""
        return self._channels.get(channel_of(key) or "")

    def channels(self) -> tuple[str, ...]:
        """The channels registered (the worker only claims their destinations)."""
        return tuple(self._channels)
