"""The delivery protocol (bot.features.delivery.channel) on Telegram: texts, edits, documents, photos.

Telegram can edit a message, so a digest is a placeholder edited into the content (the worker's
docstring explains why that sends every record once); it has no idempotency key (dedupe_seconds 0).
Calls are paced by ratelimit.py (30/s overall, 20/min a group, 1/s a private chat) and retried by
sender.py (429 retry_after, back-off on network errors and 5xx, a group that moved is followed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.types import BufferedInputFile

from bot.channels.telegram.ratelimit import RateLimiter
from bot.channels.telegram.sender import RetryPolicy, call
from bot.core.identity import TELEGRAM, telegram_id
from bot.features.delivery.channel import BeforeTry, DigestChannels, Rejected

T = TypeVar("T")
MAX_TEXT = 4000  # Telegram takes 4096 UTF-16 units; the rest is slack


def utf16_length(text: str) -> int:
    """Length as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class TelegramDigests:
    """A DigestChannel for "tg:" destinations, through one Bot."""

    bot: Bot
    limiter: RateLimiter = field(default_factory=RateLimiter)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    can_edit: bool = True
    dedupe_seconds: float = 0.0

    def fits(self, text: str) -> bool:
        """Whether one message holds the text."""
        return utf16_length(text) <= MAX_TEXT

    async def send_text(
        self, address: str, text: str, *, dedupe_key: str | None = None, before_try: BeforeTry = None
    ) -> str:
        """sendMessage; the message id."""
        sent = await self._call(address, before_try, lambda chat, timeout: self.bot.send_message(
            chat_id=chat, text=text, request_timeout=timeout))  # fmt: skip
        return str(sent.message_id)

    async def edit_text(
        self, address: str, message_id: str, text: str, *, before_try: BeforeTry = None
    ) -> None:
        """editMessageText ("message is not modified" comes back as Rejected(not_modified=True))."""
        await self._call(address, before_try, lambda chat, timeout: self.bot.edit_message_text(
            text=text, chat_id=chat, message_id=int(message_id), request_timeout=timeout))  # fmt: skip

    async def send_file(
        self, address: str, name: str, data: bytes, caption: str, *, before_try: BeforeTry = None
    ) -> str:
        """sendDocument; the message id."""
        return await self._send_media(self.bot.send_document, address, name, data, caption, before_try)

    async def send_image(
        self, address: str, name: str, data: bytes, caption: str, *, before_try: BeforeTry = None
    ) -> str:
        """sendPhoto; the message id."""
        return await self._send_media(self.bot.send_photo, address, name, data, caption, before_try)

    async def delete(self, address: str, message_id: str, *, before_try: BeforeTry = None) -> None:
        """deleteMessage."""
        await self._call(address, before_try, lambda chat, timeout: self.bot.delete_message(
            chat, int(message_id), request_timeout=timeout))  # fmt: skip

    async def _send_media(
        self, method: Any, address: str, name: str, data: bytes, caption: str, before_try: BeforeTry
    ) -> str:
        """A document or photo upload; the message id."""
        media = BufferedInputFile(data, name)
        sent = await self._call(address, before_try, lambda chat, timeout: method(
            chat, media, caption=caption, request_timeout=timeout))  # fmt: skip
        return str(sent.message_id)

    async def _call(self, address: str, before_try: BeforeTry, make: Callable[[int, int], Awaitable[T]]) -> T:
        """One call to the chat of a "tg:" key, paced and retried; `before_try` before each try."""
        chat = telegram_id(address)
        if chat is None:
            raise Rejected(f"not a Telegram chat: {address}")

        async def attempt(timeout: float) -> T:
            if before_try is not None:
                await before_try()
            return await make(chat, max(1, round(timeout)))

        return await call(attempt, chat_id=chat, limiter=self.limiter, policy=self.policy)


def register(channels: DigestChannels, bot: Bot, **options: Any) -> TelegramDigests:
    """Serve "tg:" destinations with `bot` (options: limiter, policy)."""
    digests = TelegramDigests(bot, **options)
    channels.register(TELEGRAM, digests)
    return digests
