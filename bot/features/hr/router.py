"""The two entry points the generic handler calls for updates that are not private-chat dialog input.

    handle_hr_message(message, bot, session=, translator_lang=) -> bool
        /summary, /pending, /export (also "/cmd@thisbot" in groups), or the note a person was asked
        for in this chat; False for anything else (the caller goes on with it).
    handle_hr_callback(query, bot, session=) -> bool
        every button whose data starts with "h:" (forged or malformed ones too: refused and audited);
        False for other buttons.

Both decide on stored state (roles, scopes, the group's registered counties), never on what the
update claims. In groups with privacy mode on, Telegram delivers commands and replies to the bot's
messages: the note prompt asks people to reply to it.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.features.hr import buttons, commands, followup
from bot.features.hr.scope import REFUSED, Ctx, audit_entry, where
from content.i18n import Translator, language_from_telegram
from storage.repositories.users import get_user

log = logging.getLogger(__name__)


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
    message: Message, bot: Bot, *, session: AsyncSession, translator_lang: str
) -> bool:
    """Handle an HR command or a pending note; True when handled."""
    if message.text is None or message.from_user is None:
        return False
    command = parse_command(message.text)
    if command is None:
        return await followup.take_note(message, bot, session, translator_lang)
    name, mention, arg = command
    handler = commands.COMMANDS.get(name)
    if handler is None or not await _addressed_to_me(bot, mention):
        return False
    here = await where(
        session=session, user_id=message.from_user.id, chat_id=message.chat.id, chat_type=message.chat.type
    )
    await handler(Ctx(bot, session, here, Translator(translator_lang)), arg)
    return True


async def handle_hr_callback(query: CallbackQuery, bot: Bot, *, session: AsyncSession) -> bool:
    """Handle a press of an HR button; True when the data has the HR prefix."""
    if not buttons.is_ours(query.data):
        return False
    chat = query.message.chat if query.message is not None else None
    here = await where(
        session=session,
        user_id=query.from_user.id,
        chat_id=chat.id if chat is not None else query.from_user.id,
        chat_type=chat.type if chat is not None else "private",
    )
    ctx = Ctx(bot, session, here, Translator(await _language(session, query)))
    press = buttons.parse(query.data or "")
    if press is None:
        await followup.answer(ctx, query, "hr.toast.invalid")
        await audit_entry(ctx, REFUSED, "callback", None, "malformed")
        return True
    await _dispatch(ctx, query, press)
    return True


async def _dispatch(ctx: Ctx, query: CallbackQuery, press: buttons.HrPress) -> None:
    """Run the action of a well-formed press."""
    if press.a == buttons.SET_STATUS:
        await followup.press_status(ctx, query, press.r, press.s)
    elif press.a == buttons.NO_NOTE:
        await followup.press_no_note(ctx, query, press.r)
    else:
        await followup.answer(ctx, query, None)
        await _remove_buttons(ctx, query)
        await commands.send_page(ctx, press.r)


async def _remove_buttons(ctx: Ctx, query: CallbackQuery) -> None:
    """Take the "next page" button off the pressed footer, so a page is fetched once."""
    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        try:
            await ctx.bot.edit_message_reply_markup(
                chat_id=ctx.here.chat_id, message_id=query.message.message_id
            )
        except TelegramBadRequest as error:  # gone or too old: the new page is sent anyway
            log.debug("could not remove the page button: %s", error)


async def _language(session: AsyncSession, query: CallbackQuery) -> str:
    """The presser's stored language, else their Telegram app's."""
    user = await get_user(session=session, channel_key=f"tg:{query.from_user.id}")
    return user.language if user is not None else language_from_telegram(query.from_user.language_code)
