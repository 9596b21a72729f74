"""Render the engine's replies as Telegram messages with inline keyboards."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from aiogram import Bot
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.channels.telegram.callbacks import press_data
from bot.core.identity import telegram_id
from bot.core.outbound import Sender
from bot.core.text import split_text
from content.i18n import Rendered, Translator
from dialogs.engine import BACK, MENU
from dialogs.model import Reply

TELEGRAM_TEXT_LIMIT = 4096
NAV_ROW = (BACK, MENU)
KEYBOARD_CACHE_SIZE = 1024


@dataclass(frozen=True)
class Outgoing:
    """One message to send: text and an optional keyboard."""

    text: str
    markup: InlineKeyboardMarkup | None


def keyboard(rendered: Rendered) -> InlineKeyboardMarkup | None:
    """Buttons one per row (long labels on small screens), Back and Menu side by side."""
    if not rendered.buttons:
        return None
    return _keyboard(rendered.token, rendered.buttons)


# Users on the same screen at the same step token get the same keyboard. Building one costs
# ~8 µs per button in pydantic (a tenth of an update's time on a 12-button screen); aiogram's
# objects are frozen, so a cached one can be sent again and again.
@lru_cache(maxsize=KEYBOARD_CACHE_SIZE)
def _keyboard(token: int | None, buttons: tuple[tuple[str, str], ...]) -> InlineKeyboardMarkup:
    """The keyboard for a token and its (choice id, label) pairs."""
    rows: list[list[InlineKeyboardButton]] = []
    nav: list[InlineKeyboardButton] = []
    for choice_id, label in buttons:
        button = InlineKeyboardButton(text=label, callback_data=press_data(token, choice_id))
        if choice_id in NAV_ROW:
            nav.append(button)
        else:
            rows.append([button])
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def outgoing(translator: Translator, replies: list[Reply]) -> list[Outgoing]:
    """The messages for a list of replies; a keyboard goes with the last part of its text."""
    messages: list[Outgoing] = []
    for reply in replies:
        rendered = translator.render(reply)
        parts = split_text(rendered.text, TELEGRAM_TEXT_LIMIT)
        messages.extend(Outgoing(part, None) for part in parts[:-1])
        messages.append(Outgoing(parts[-1], keyboard(rendered)))
    return messages


def outbound_sender(bot: Bot) -> Sender:
    """The sender of replies to "tg:" keys, for bot.core.outbound."""

    async def send(key: str, replies: list[Reply], lang: str) -> bool:
        chat_id = telegram_id(key)
        if chat_id is None:
            return False
        for message in outgoing(Translator(lang), replies):
            await bot.send_message(chat_id, message.text, reply_markup=message.markup)
        return True

    return send
