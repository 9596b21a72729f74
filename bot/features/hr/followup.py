"""Follow-up buttons: a status pressed on a record, its optional note, and the household told once.

press a status ──► scope check ──► compare-and-set + history row ──► message shows the status and
    asks for a note ("no note" button) ──► the household is told (bot.features.hr.notices: held
    for its next contact when its channel cannot take it now)
next text of that person in that chat within NOTE_MINUTES ──► the note (numbers in it masked)

Channel-neutral: the chat is an `HrChat` (bot.features.hr.chat); a channel without edit gets the
prompt and the restored record as new messages instead of changed ones.
"""

from __future__ import annotations

import time
from typing import Any

from bot.features.hr import render
from bot.features.hr.chat import Keyboard
from bot.features.hr.notices import notify_household
from bot.features.hr.scope import REFUSED, Ctx, audit_entry
from storage.models import utc_now
from storage.models_followup import NoteWait
from storage.repositories import followup as repo
from storage.repositories.reports import area_names

SET_STATUS = "hr.set_status"
NOTE_MINUTES = 5
TOASTS = {repo.BUSY: "hr.toast.busy", repo.NEWER_OPEN: "hr.toast.newer", repo.MISSING: "hr.toast.refused"}
TOAST_LIMIT = 200  # Telegram's callback answer; other channels show less or send it as text


async def answer(ctx: Ctx, key: str | None, params: dict | None = None) -> None:
    """A short notice on the pressed button (none for key None)."""
    await ctx.chat.answer(ctx.t.text(key, params or {})[:TOAST_LIMIT] if key else None)


async def refuse(ctx: Ctx, target_kind: str, target_id: int, action: str) -> None:
    """Refuse a press (forged, out of scope or gone), politely, and audit it."""
    await answer(ctx, "hr.toast.refused")
    await audit_entry(ctx, REFUSED, target_kind, target_id, f"action={action}")


async def press_status(ctx: Ctx, pressed: str | None, record_id: int, status: str) -> None:
    """Set a record's status from its button (on message `pressed`), ask for a note, tell the household."""
    county = await repo.county_of(session=ctx.session, record_id=record_id)
    if county is None or status not in repo.FOLLOW_UP_STATUSES or not ctx.here.allows(SET_STATUS, county):
        await refuse(ctx, "intent_record", record_id, SET_STATUS)
        return
    change = await repo.set_status(
        session=ctx.session, record_id=record_id, status=status, actor=ctx.here.actor,
        chat_key=ctx.here.chat_key, now=utc_now(),
    )  # fmt: skip
    if change.outcome == repo.UNCHANGED:
        await answer(ctx, "hr.toast.unchanged", {"status": render.value(ctx.t, "status", status)})
        return
    if change.outcome != repo.CHANGED or change.change_id is None:
        await answer(ctx, TOASTS.get(change.outcome, "hr.toast.refused"))
        return
    await audit_entry(ctx, SET_STATUS, "intent_record", record_id, f"status={status}")
    await answer(ctx, "hr.toast.saved")
    message_id = await _ask_for_note(ctx, pressed, record_id, change.change_id, status)
    await _wait_for_note(ctx, change.change_id, message_id)
    await notify_household(ctx.outbound, ctx.session, change.change_id)


async def _wait_for_note(ctx: Ctx, change_id: int, message_id: str | None) -> None:
    """Take the person's next text here as the note; an older prompt of theirs gets its buttons back."""
    replaced = await repo.expect_note(
        session=ctx.session, chat_key=ctx.here.chat_key, actor=ctx.here.actor, change_id=change_id,
        message_id=message_id, expires_at=time.time() + NOTE_MINUTES * 60,
    )  # fmt: skip
    if replaced is None or replaced.message_id in (None, message_id):
        return
    found = await repo.change_record(session=ctx.session, change_id=replaced.change_id)
    if found is not None:
        await show_record(ctx, replaced.message_id, found[0])


async def _ask_for_note(
    ctx: Ctx, pressed: str | None, record_id: int, change_id: int, status: str
) -> str | None:
    """Show the new status on the pressed message (or a new one) with the "no note" button; its id."""
    prompt = ctx.t.text(
        "hr.changed.prompt", {"status": render.value(ctx.t, "status", status), "minutes": NOTE_MINUTES}
    )
    buttons = render.note_keyboard(ctx.t, change_id)
    text = f"{await _record_text(ctx, record_id)}\n\n{prompt}"
    if pressed is not None and await _edit(ctx, pressed, text, buttons):
        return pressed
    return await ctx.chat.send(text, buttons)


async def _record_text(ctx: Ctx, record_id: int) -> str:
    """A record as it is stored now, in short form."""
    view = await repo.record_view(session=ctx.session, record_id=record_id)
    if view is None:
        return f"#{record_id}"
    codes = {view.village_code, view.village_code[:9]}
    return render.record_text(ctx.t, view, await area_names(session=ctx.session, codes=codes))


async def _edit(ctx: Ctx, message_id: str, text: str, buttons: Keyboard) -> bool:
    """Replace a message's text and buttons; False when the channel cannot."""
    return ctx.chat.can_edit and await ctx.chat.edit(message_id, text, buttons)


async def show_record(ctx: Ctx, message_id: str, record_id: int) -> None:
    """Put a record message back to its normal form: the record (with its note) and its buttons.

    A channel without edit gets nothing here: the record's buttons on its earlier message still work."""
    text = await _record_text(ctx, record_id)
    await _edit(ctx, message_id, text, render.status_keyboard(ctx.t, record_id))


# ---------------------------------------------------------------- notes


async def press_no_note(ctx: Ctx, change_id: int) -> None:
    """The "no note" button: stop waiting for a note."""
    found = await repo.change_record(session=ctx.session, change_id=change_id)
    county = await repo.county_of(session=ctx.session, record_id=found[0]) if found else None
    if found is None or county is None or not ctx.here.allows(SET_STATUS, county):
        await refuse(ctx, "intent_status_change", change_id, SET_STATUS)
        return
    wait = await repo.drop_note_wait(
        session=ctx.session, chat_key=ctx.here.chat_key, actor=ctx.here.actor, change_id=change_id
    )
    if wait is None:  # someone else's prompt, or it has expired
        await answer(ctx, "hr.toast.invalid")
        return
    await answer(ctx, "hr.toast.no_note")
    if wait.message_id is not None:
        await show_record(ctx, wait.message_id, found[0])


async def take_note_wait(session: Any, chat_key: str, actor: str) -> NoteWait | None:
    """The note this person was asked for in this chat, if one is awaited (taken: it is answered once)."""
    return await repo.take_note_wait(session=session, chat_key=chat_key, actor=actor, now=time.time())


async def save_note(ctx: Ctx, wait: NoteWait, text: str) -> None:
    """Store a text as the note of the awaited status change (numbers in it masked)."""
    found = await repo.change_record(session=ctx.session, change_id=wait.change_id)
    county = await repo.county_of(session=ctx.session, record_id=found[0]) if found else None
    if found is None or county is None or not ctx.here.allows(SET_STATUS, county):
        await audit_entry(ctx, REFUSED, "intent_status_change", wait.change_id, f"action={SET_STATUS}")
        return
    await repo.attach_note(session=ctx.session, change_id=wait.change_id, note=repo.masked_note(text))
    await audit_entry(ctx, "hr.note", "intent_record", found[0])
    await ctx.chat.send(ctx.t.text("hr.note.saved", {"id": found[0]}))
    if wait.message_id is not None:
        await show_record(ctx, wait.message_id, found[0])
