"""The one generic handler: any message or button press goes into the engine.

A catch-all handler (no magic filters) keeps the per-update path short: the engine, not
aiogram's router, decides what an input means.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from typing import Any

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, ErrorEvent, InlineKeyboardMarkup, Message

from bot.channels.telegram.callbacks import input_from_callback
from bot.channels.telegram.hr import handle_hr_callback, handle_hr_message
from bot.channels.telegram.render import outgoing
from bot.core.services import Services
from bot.core.turns import take_turn
from bot.features.delivery.commands import COMMANDS as DESTINATION_COMMANDS
from bot.features.delivery.commands import handle_hr_command
from content.i18n import Translator, language_from_telegram
from dialogs.model import Input, Reply, State
from storage.repositories.access import load_member

log = logging.getLogger(__name__)
CALLBACK_NOTICE_LIMIT = 200


def input_from_message(message: Message) -> Input:
    """A command, a text, or something else (sticker, photo, voice...), stamped with its date."""
    text, today = message.text, message.date.date().isoformat()
    if text is None:
        return Input("other", today=today)
    if text.startswith("/"):
        head, _, arg = text.partition(" ")
        return replace(Input.command(head[1:].split("@", 1)[0], arg.strip()), today=today)
    return replace(Input.text(text), today=today)


def build_router(services: Services) -> Router:
    """The dialog router: messages and button presses of private chats."""
    router = Router(name="dialogs")

    @router.message()
    async def on_message(message: Message, bot: Bot, **data: Any) -> None:
        """HR and admin commands first; anything else in a private chat goes to the engine."""
        if await _office_message(services, message, bot, data):
            return
        if data["slot"] is None:
            return  # a group chat: only the HR commands above are for the bot
        state, replies = await _turn(services, input_from_message(message), data)
        await _send(bot, message.chat.id, Translator(state.lang), replies)

    @router.callback_query()
    async def on_press(query: CallbackQuery, bot: Bot, **data: Any) -> None:
        """Feed a button press to the engine, mark the pressed message, send the replies."""
        hr_press = await handle_hr_callback(query, bot, session=data["session"], outbound=services.outbound)
        if hr_press or data["slot"] is None:
            return
        user_input = replace(input_from_callback(query.data), today=date.today().isoformat())
        state, replies = await _turn(services, user_input, data)
        translator = Translator(state.lang)
        notices = [r for r in replies if r.notice]
        toast = (
            translator.text(notices[0].key, notices[0].params)[:CALLBACK_NOTICE_LIMIT] if notices else None
        )
        await query.answer(text=toast)
        await _mark_pressed(query, bot, translator, accepted=not notices)
        await _send(bot, query.from_user.id, translator, [r for r in replies if not r.notice])

    @router.errors()
    async def on_error(event: ErrorEvent, bot: Bot) -> None:
        """Log the failure and tell the user, in their language, that nothing was lost."""
        log.exception("update %s failed", event.update.update_id, exc_info=event.exception)
        chat = _chat_of(event)
        if chat is not None:
            await bot.send_message(chat, Translator(_lang_of(event)).text("core.error"))

    return router


async def _office_message(services: Services, message: Message, bot: Bot, data: dict[str, Any]) -> bool:
    """County HR commands, pending follow-up notes and admins' /hr_* commands; True when handled."""
    session, lang = data["session"], data["default_lang"]
    command = input_from_message(message)
    if command.kind == "command" and command.value in DESTINATION_COMMANDS and message.from_user is not None:
        member = await load_member(session=session, channel_key=f"tg:{message.from_user.id}")
        reply = await handle_hr_command(command, member, session)
        await _send(bot, message.chat.id, Translator(lang), [reply])
        return True
    if command.kind != "command" and message.reply_to_message is None:
        # A follow-up note is a reply to the bot's prompt (groups with privacy mode only see replies
        # anyway): other typed text is dialog input and costs no lookup here.
        return False
    return await handle_hr_message(
        message, bot, session=session, translator_lang=lang, outbound=services.outbound
    )


async def _turn(services: Services, user_input: Input, data: dict[str, Any]) -> tuple[State, list[Reply]]:
    """Run one turn with what the middleware prepared."""
    update = data.get("event_update")
    return await take_turn(
        book=services.book,
        slot=data["slot"],
        user_input=user_input,
        key=data["key"],
        default_lang=data["default_lang"],
        effects=services.effects,
        session=data["session"],
        cipher=services.cipher,
        update_id=update.update_id if update is not None else None,
    )


async def _send(bot: Bot, chat_id: int, translator: Translator, replies: list[Reply]) -> None:
    """Send the replies in order."""
    for message in outgoing(translator, replies):
        await bot.send_message(chat_id, message.text, reply_markup=message.markup)


def pressed_label(query: CallbackQuery) -> str | None:
    """The label of the button that was pressed, read from the message that carried it."""
    markup = getattr(query.message, "reply_markup", None)
    if not isinstance(markup, InlineKeyboardMarkup):
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == query.data:
                return button.text
    return None


async def _mark_pressed(query: CallbackQuery, bot: Bot, translator: Translator, *, accepted: bool) -> None:
    """Take the buttons off the pressed message, noting the choice, so it cannot be pressed twice."""
    message = query.message
    label = pressed_label(query)
    if not isinstance(message, Message) or message.text is None:
        return
    try:
        if accepted and label:
            chosen = translator.text("core.chosen", {"label": label})
            await bot.edit_message_text(
                text=f"{message.text}\n\n{chosen}", chat_id=message.chat.id, message_id=message.message_id
            )
        elif message.reply_markup is not None:
            await bot.edit_message_reply_markup(chat_id=message.chat.id, message_id=message.message_id)
    except TelegramBadRequest as exc:  # already edited by a double tap, or too old to edit
        log.debug("could not mark message %s: %s", message.message_id, exc)


def _chat_of(event: ErrorEvent) -> int | None:
    """The private chat an update came from, if any."""
    update = event.update
    if update.message is not None and update.message.chat.type == "private":
        return update.message.chat.id
    if update.callback_query is not None:
        return update.callback_query.from_user.id
    return None


def _lang_of(event: ErrorEvent) -> str:
    """Best guess of the user's language when the turn itself failed."""
    update = event.update
    sender = update.message.from_user if update.message else getattr(update.callback_query, "from_user", None)
    return language_from_telegram(getattr(sender, "language_code", None))
