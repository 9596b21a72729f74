"""The HR side on Telegram: updates in, neutral HR output (bot.features.hr) drawn as Telegram messages.

    handle_hr_message(message, bot, session=, translator_lang=, outbound=) -> bool
        /summary, /pending, /export (also "/cmd@thisbot" in groups), or the note a person was asked
        for in this chat; False for anything else (the caller goes on with it).
    handle_hr_callback(query, bot, session=, outbound=) -> bool
        every button whose data starts with "h:" (forged or malformed ones too: refused and
        audited); False for other buttons.

In groups with privacy mode on, Telegram delivers commands and replies to the bot's messages: the
note prompt asks people to reply to it. Chats are keys "tg:<chat id>", people "tg:<user id>".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from bot.core.identity import TELEGRAM, make_key
from bot.core.outbound import Outbound
from bot.core.text import split_text
from bot.features.hr.buttons import is_ours
from bot.features.hr.chat import HrFile, Keyboard, Sender
from bot.features.hr.router import COMMAND_NAMES, handle_command, handle_press, handle_text
from content.i18n import language_from_telegram
from storage.repositories.users import get_user

log = logging.getLogger(__name__)
MESSAGE_LIMIT = 4096  # Telegram's text limit
PRIVATE = "private"


def markup(buttons: Keyboard) -> InlineKeyboardMarkup | None:
    """Neutral button rows as an inline keyboard (the button id is the callback data)."""
    if not buttons:
        return None
    rows = [[InlineKeyboardButton(text=b.label, callback_data=b.id) for b in row] for row in buttons]
    return InlineKeyboardMarkup(inline_keyboard=rows)


@dataclass
class TelegramHrChat:
    """An HrChat for one Telegram chat, and the pressed button's query when there is one."""

    bot: Bot
    chat_id: int
    query: CallbackQuery | None = None
    can_edit: bool = True

    @property
    def key(self) -> str:
        """The chat's key."""
        return make_key(TELEGRAM, self.chat_id)

    async def send(self, text: str, buttons: Keyboard = ()) -> str | None:
        """Send a text in as many messages as it needs, the buttons with the last one; its id."""
        parts = split_text(text, MESSAGE_LIMIT)
        for part in parts[:-1]:
            await self.bot.send_message(self.chat_id, part)
        sent = await self.bot.send_message(self.chat_id, parts[-1], reply_markup=markup(buttons))
        return str(sent.message_id)

    async def edit(self, message_id: str, text: str, buttons: Keyboard = ()) -> bool:
        """Replace a message's text and buttons; False when Telegram refuses (gone, too old)."""
        try:
            await self.bot.edit_message_text(
                text=text, chat_id=self.chat_id, message_id=int(message_id), reply_markup=markup(buttons)
            )
        except TelegramBadRequest as error:
            log.debug("could not edit message %s: %s", message_id, error)
            return "not modified" in str(error)
        return True

    async def answer(self, text: str | None) -> None:
        """Answer the callback query (a toast when `text` is given)."""
        if self.query is None:
            return
        try:
            await self.bot.answer_callback_query(self.query.id, text=text)
        except TelegramBadRequest as error:  # answered already, or too old
            log.debug("could not answer callback %s: %s", self.query.id, error)

    async def remove_buttons(self, message_id: str) -> None:
        """Take the inline keyboard off a message; gone or too old: nothing to do."""
        message = self.query.message if self.query is not None else None
        if (
            isinstance(message, Message)
            and str(message.message_id) == message_id
            and message.reply_markup is None
        ):
            return
        try:
            await self.bot.edit_message_reply_markup(chat_id=self.chat_id, message_id=int(message_id))
        except TelegramBadRequest as error:
            log.debug("could not remove the buttons of %s: %s", message_id, error)

    async def send_file(self, file: HrFile) -> None:
        """Send a document."""
        await self.bot.send_document(
            self.chat_id, BufferedInputFile(file.data, filename=file.name), caption=file.caption
        )


def parse_command(text: str) -> tuple[str, str | None, str] | None:
    """("summary", "thisbot" or None, "the rest") for "/summary@thisbot the rest"; None for plain text."""
    if not text.startswith("/"):
        return None
    head, _, rest = text.partition(" ")
    name, _, mention = head[1:].partition("@")
    return name.lower(), mention or None, rest.strip()


async def _addressed_to_me(bot: Bot, mention: str | None) -> bool:
    """True unless the command names another bot."""
    if mention is None:
        return True
    me = await bot.me()
    return (me.username or "").lower() == mention.lower()


async def handle_hr_message(
    message: Message, bot: Bot, *, session: Any, translator_lang: str, outbound: Outbound | None = None
) -> bool:
    """Handle an HR command or a pending note; True when handled."""
    if message.text is None or message.from_user is None:
        return False
    chat = TelegramHrChat(bot, message.chat.id)
    sender = Sender(make_key(TELEGRAM, message.from_user.id), message.chat.type == PRIVATE, translator_lang)
    command = parse_command(message.text)
    if command is None:
        return await handle_text(chat, sender, message.text, session=session, outbound=outbound)
    name, mention, arg = command
    if name not in COMMAND_NAMES or not await _addressed_to_me(bot, mention):
        return False
    return await handle_command(chat, sender, name, arg, session=session, outbound=outbound)


async def handle_hr_callback(
    query: CallbackQuery, bot: Bot, *, session: Any, outbound: Outbound | None = None
) -> bool:
    """Handle a press of an HR button; True when the data has the HR prefix."""
    if not is_ours(query.data):
        return False
    message = query.message
    chat_id = message.chat.id if message is not None else query.from_user.id
    private = message is None or message.chat.type == PRIVATE
    sender = Sender(make_key(TELEGRAM, query.from_user.id), private, await _language(session, query))
    pressed = str(message.message_id) if isinstance(message, Message) else None
    chat = TelegramHrChat(bot, chat_id, query)
    return await handle_press(chat, sender, query.data, pressed, session=session, outbound=outbound)


async def _language(session: Any, query: CallbackQuery) -> str:
    """The presser's stored language, else their Telegram app's."""
    user = await get_user(session=session, channel_key=make_key(TELEGRAM, query.from_user.id))
    return user.language if user is not None else language_from_telegram(query.from_user.language_code)
