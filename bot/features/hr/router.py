"""The channel-neutral entry points of the HR side, for any channel's HR chats.

    handle_command(chat, sender, name, arg, session=, outbound=) -> bool
        /summary, /pending, /export; False for other commands (the caller goes on with them).
    handle_text(chat, sender, text, session=, outbound=) -> bool
        the note a person was asked for in this chat; False for any other text.
    handle_press(chat, sender, data, pressed, session=, outbound=) -> bool
        every button whose id starts with "h:" (forged or malformed ones too: refused and
        audited); False for other buttons. `pressed` is the id of the message that carried it.

`chat` is the channel's `HrChat`; `sender` (bot.features.hr.chat.Sender) says who acts (their key),
whether the chat is private, and their language. Everything is decided on stored state (roles,
scopes, the group's registered counties by its key), never on what the update claims. The
Telegram channel calls these from bot/channels/telegram/hr.py.
"""

from __future__ import annotations

from typing import Any

from bot.core.outbound import Outbound
from bot.features.hr import buttons, commands, followup
from bot.features.hr.chat import HrChat, Sender
from bot.features.hr.scope import REFUSED, Ctx, audit_entry, where
from content.i18n import Translator

COMMAND_NAMES = frozenset(commands.COMMANDS)


async def context(chat: HrChat, sender: Sender, *, session: Any, outbound: Outbound | None = None) -> Ctx:
    """What the handlers work with: the person and chat as stored, in the sender's language."""
    here = await where(session=session, actor=sender.actor, chat_key=chat.key, private=sender.private)
    return Ctx(chat, session, here, Translator(sender.lang), outbound or Outbound())


async def handle_command(
    chat: HrChat, sender: Sender, name: str, arg: str, *, session: Any, outbound: Outbound | None = None
) -> bool:
    """Run an HR command; False when `name` is not one."""
    handler = commands.COMMANDS.get(name)
    if handler is None:
        return False
    await handler(await context(chat, sender, session=session, outbound=outbound), arg)
    return True


async def handle_text(
    chat: HrChat, sender: Sender, text: str, *, session: Any, outbound: Outbound | None = None
) -> bool:
    """Take a text as the note this person was asked for here; False when none was asked."""
    wait = await followup.take_note_wait(session, chat.key, sender.actor)  # one lookup for other texts
    if wait is None:
        return False
    await followup.save_note(await context(chat, sender, session=session, outbound=outbound), wait, text)
    return True


async def handle_press(
    chat: HrChat,
    sender: Sender,
    data: str | None,
    pressed: str | None,
    *,
    session: Any,
    outbound: Outbound | None = None,
) -> bool:
    """Handle a press of an HR button; False when the id lacks the HR prefix."""
    if not buttons.is_ours(data):
        return False
    ctx = await context(chat, sender, session=session, outbound=outbound)
    press = buttons.parse(data or "")
    if press is None:
        await followup.answer(ctx, "hr.toast.invalid")
        await audit_entry(ctx, REFUSED, "callback", None, "malformed")
        return True
    await _dispatch(ctx, press, pressed)
    return True


async def _dispatch(ctx: Ctx, press: buttons.HrPress, pressed: str | None) -> None:
    """Run the action of a well-formed press."""
    if press.a == buttons.SET_STATUS:
        await followup.press_status(ctx, pressed, press.r, press.s)
    elif press.a == buttons.NO_NOTE:
        await followup.press_no_note(ctx, press.r)
    else:
        await followup.answer(ctx, None)
        if pressed is not None:  # take the "next page" button off, so a page is fetched once
            await ctx.chat.remove_buttons(pressed)
        await commands.send_page(ctx, press.r)
