"""Follow-up buttons: a status pressed on a record, its optional note, and the household told once.

press a status ──► scope check ──► compare-and-set + history row ──► message shows the status and
    asks for a note ("no note" button) ──► the household is told (claimed first: once)
next text of that person in that chat within NOTE_MINUTES ──► the note (numbers in it masked)
"""

from __future__ import annotations

import logging
import time

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.features.hr import render
from bot.features.hr.scope import REFUSED, Ctx, audit_entry, where
from content.i18n import Translator
from storage.models import utc_now
from storage.repositories import followup as repo
from storage.repositories.reports import area_names

log = logging.getLogger(__name__)
SET_STATUS = "hr.set_status"
NOTE_MINUTES = 5
TOASTS = {repo.BUSY: "hr.toast.busy", repo.NEWER_OPEN: "hr.toast.newer", repo.MISSING: "hr.toast.refused"}


async def answer(ctx: Ctx, query: CallbackQuery, key: str | None, params: dict | None = None) -> None:
    """A short notice on the pressed button (none for key None)."""
    text = ctx.t.text(key, params or {})[:200] if key else None
    try:
        await ctx.bot.answer_callback_query(query.id, text=text)
    except TelegramBadRequest as error:  # answered already, or too old
        log.debug("could not answer callback %s: %s", query.id, error)


async def refuse(ctx: Ctx, query: CallbackQuery, target_kind: str, target_id: int, action: str) -> None:
    """Refuse a press (forged, out of scope or gone), politely, and audit it."""
    await answer(ctx, query, "hr.toast.refused")
    await audit_entry(ctx, REFUSED, target_kind, target_id, f"action={action}")


async def press_status(ctx: Ctx, query: CallbackQuery, record_id: int, status: str) -> None:
    """Set a record's status from its button, then ask for a note and tell the household."""
    county = await repo.county_of(session=ctx.session, record_id=record_id)
    if county is None or status not in repo.FOLLOW_UP_STATUSES or not ctx.here.allows(SET_STATUS, county):
        await refuse(ctx, query, "intent_record", record_id, SET_STATUS)
        return
    change = await repo.set_status(
        session=ctx.session, record_id=record_id, status=status, actor=ctx.here.actor,
        chat_id=ctx.here.chat_id, now=utc_now(),
    )  # fmt: skip
    if change.outcome == repo.UNCHANGED:
        await answer(ctx, query, "hr.toast.unchanged", {"status": render.value(ctx.t, "status", status)})
        return
    if change.outcome != repo.CHANGED or change.change_id is None:
        await answer(ctx, query, TOASTS.get(change.outcome, "hr.toast.refused"))
        return
    await audit_entry(ctx, SET_STATUS, "intent_record", record_id, f"status={status}")
    await answer(ctx, query, "hr.toast.saved")
    message_id = await _ask_for_note(ctx, query, record_id, change.change_id, status)
    await _wait_for_note(ctx, change.change_id, message_id)
    await tell_household(ctx.bot, ctx.session, change.change_id)


async def _wait_for_note(ctx: Ctx, change_id: int, message_id: int | None) -> None:
    """Take the person's next text here as the note; an older prompt of theirs gets its buttons back."""
    replaced = await repo.expect_note(
        session=ctx.session, chat_id=ctx.here.chat_id, actor=ctx.here.actor, change_id=change_id,
        message_id=message_id, expires_at=time.time() + NOTE_MINUTES * 60,
    )  # fmt: skip
    if replaced is None or replaced.message_id in (None, message_id):
        return
    found = await repo.change_record(session=ctx.session, change_id=replaced.change_id)
    if found is not None:
        await show_record(ctx, replaced.message_id, found[0])


async def _ask_for_note(
    ctx: Ctx, query: CallbackQuery, record_id: int, change_id: int, status: str
) -> int | None:
    """Show the new status on the pressed message with the "no note" button; that message's id."""
    prompt = ctx.t.text(
        "hr.changed.prompt", {"status": render.value(ctx.t, "status", status), "minutes": NOTE_MINUTES}
    )
    markup = render.note_keyboard(ctx.t, change_id)
    message = query.message if isinstance(query.message, Message) else None
    text = f"{await _record_text(ctx, record_id)}\n\n{prompt}"
    if message is not None and await _edit(ctx.bot, ctx.here.chat_id, message.message_id, text, markup):
        return message.message_id
    sent = await ctx.bot.send_message(ctx.here.chat_id, text, reply_markup=markup)
    return sent.message_id


async def _record_text(ctx: Ctx, record_id: int) -> str:
    """A record as it is stored now, in short form."""
    view = await repo.record_view(session=ctx.session, record_id=record_id)
    if view is None:
        return f"#{record_id}"
    codes = {view.village_code, view.village_code[:9]}
    return render.record_text(ctx.t, view, await area_names(session=ctx.session, codes=codes))


async def _edit(
    bot: Bot, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None
) -> bool:
    """Replace a message's text and buttons; False when Telegram refuses (gone, too old)."""
    try:
        await bot.edit_message_text(text=text, chat_id=chat_id, message_id=message_id, reply_markup=markup)
    except TelegramBadRequest as error:
        log.debug("could not edit message %s: %s", message_id, error)
        return "not modified" in str(error)
    return True


async def show_record(ctx: Ctx, message_id: int, record_id: int) -> None:
    """Put a record message back to its normal form: the record (with its note) and its buttons."""
    text = await _record_text(ctx, record_id)
    await _edit(ctx.bot, ctx.here.chat_id, message_id, text, render.status_keyboard(ctx.t, record_id))


# ---------------------------------------------------------------- notes


async def press_no_note(ctx: Ctx, query: CallbackQuery, change_id: int) -> None:
    """The "no note" button: stop waiting for a note."""
    found = await repo.change_record(session=ctx.session, change_id=change_id)
    county = await repo.county_of(session=ctx.session, record_id=found[0]) if found else None
    if found is None or county is None or not ctx.here.allows(SET_STATUS, county):
        await refuse(ctx, query, "intent_status_change", change_id, SET_STATUS)
        return
    wait = await repo.drop_note_wait(
        session=ctx.session, chat_id=ctx.here.chat_id, actor=ctx.here.actor, change_id=change_id
    )
    if wait is None:  # someone else's prompt, or it has expired
        await answer(ctx, query, "hr.toast.invalid")
        return
    await answer(ctx, query, "hr.toast.no_note")
    if wait.message_id is not None:
        await show_record(ctx, wait.message_id, found[0])


async def take_note(message: Message, bot: Bot, session: AsyncSession, lang: str) -> bool:
    """Store a text as the note the sender was asked for in this chat; False when none was asked."""
    if message.from_user is None or not message.text:
        return False
    actor = f"tg:{message.from_user.id}"
    wait = await repo.take_note_wait(session=session, chat_id=message.chat.id, actor=actor, now=time.time())
    if wait is None:
        return False
    here = await where(
        session=session, user_id=message.from_user.id, chat_id=message.chat.id, chat_type=message.chat.type
    )
    ctx = Ctx(bot, session, here, Translator(lang))
    found = await repo.change_record(session=session, change_id=wait.change_id)
    county = await repo.county_of(session=session, record_id=found[0]) if found else None
    if found is None or county is None or not here.allows(SET_STATUS, county):
        await audit_entry(ctx, REFUSED, "intent_status_change", wait.change_id, f"action={SET_STATUS}")
        return True
    await repo.attach_note(session=session, change_id=wait.change_id, note=repo.masked_note(message.text))
    await audit_entry(ctx, "hr.note", "intent_record", found[0])
    await bot.send_message(message.chat.id, ctx.t.text("hr.note.saved", {"id": found[0]}))
    if wait.message_id is not None:
        await show_record(ctx, wait.message_id, found[0])
    return True


# ---------------------------------------------------------------- the household


async def tell_household(bot: Bot, session: AsyncSession, change_id: int) -> None:
    """Tell a household that used the bot itself about a change, in its language; at most once."""
    notice = await repo.claim_notice(session=session, change_id=change_id, now=utc_now())
    if notice is None:
        return
    t = Translator(notice.language)
    text = t.text(f"hr.notify.{notice.status}", {"kind": render.value(t, "kind", notice.kind)})
    try:
        await bot.send_message(notice.chat_id, text)
    except TelegramAPIError as error:  # blocked the bot, or gone: claimed anyway, so never twice
        log.warning("could not tell the household of status change %s: %s", change_id, error)
