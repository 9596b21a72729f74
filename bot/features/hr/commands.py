"""The HR chat commands: /summary, /pending (paged, each record with its follow-up buttons), /export, /web.

Each command checks, on stored state, what the sender may see in this chat (bot.features.hr.scope); a
refusal gets a polite reply and an audit entry. Views and exports are audited too.
"""

from __future__ import annotations

import asyncio
import io
import logging
import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from bot.core.settings import load_settings
from bot.features.access.rules import level_of
from bot.features.hr import render
from bot.features.hr.chat import HrFile
from bot.features.hr.scope import REFUSED, Ctx, audit_entry, scope_id
from bot.features.hr.tables import CHINA, export_columns, export_query, week_start
from bot.features.sign_in import sign_in_link
from storage.exports.xlsx import write_xlsx
from storage.repositories import ratelimit
from storage.repositories.export_rows import count_matching, stream_batches
from storage.repositories.followup import RecordView, pending_page
from storage.repositories.reports import area_names, summary

log = logging.getLogger(__name__)
PAGE_SIZE = 5  # record messages per page: six messages stay well inside a group's 20 a minute
EXPORT = "hr.export"
# Rows a chat export may hold: the workbook is built in the bot's memory and Telegram takes 50 MB
# (WeCom 20 MB; 50 000 rows are about 5 MB); larger exports (a whole province) are for
# `outreach export`, which streams.
CHAT_EXPORT_MAX = 50_000


async def allowed_prefixes(ctx: Ctx, action: str, command: str) -> tuple[str, ...]:
    """The prefixes the action may reach here; on refusal, reply politely, audit, and return ()."""
    prefixes = ctx.here.prefixes(action)
    if not prefixes:
        key = "hr.group_unregistered" if ctx.here.staff and ctx.here.counties == () else "hr.refused"
        await ctx.chat.send(ctx.t.text(key))
        await audit_entry(ctx, REFUSED, "command", command, f"action={action}")
    return prefixes


async def names_of(ctx: Ctx, codes: set[str]) -> dict[str, str]:
    """Area names by code."""
    return await area_names(session=ctx.session, codes=codes)


# ---------------------------------------------------------------- /summary


async def summary_command(ctx: Ctx, arg: str) -> None:
    """Counts this week and in total, by township, kind of wish and status."""
    prefixes = await allowed_prefixes(ctx, "hr.summary", "summary")
    if not prefixes:
        return
    figures = await summary(session=ctx.session, prefixes=prefixes, week_start=week_start(datetime.now(UTC)))
    names = await names_of(ctx, set(prefixes) | set(figures.by_township))
    await ctx.chat.send(render.summary_text(ctx.t, figures, names, render.area_label(ctx.t, prefixes, names)))


# ---------------------------------------------------------------- /pending


async def pending_command(ctx: Ctx, arg: str) -> None:
    """The first page of records not yet followed up."""
    await send_page(ctx, 0)


async def send_page(ctx: Ctx, page: int) -> None:
    """One page: a message per record with its buttons, then a footer with the next page's button."""
    prefixes = await allowed_prefixes(ctx, "hr.pending", "pending")
    if not prefixes:
        return
    views, total = await pending_page(
        session=ctx.session, prefixes=prefixes, offset=page * PAGE_SIZE, limit=PAGE_SIZE
    )
    await audit_entry(ctx, "hr.pending", "county", scope_id(prefixes), f"page={page} rows={len(views)}")
    if not views:
        await ctx.chat.send(ctx.t.text("hr.pending.none"))
        return
    names = await names_of(ctx, _places(views))
    for view in views:
        text = render.record_text(ctx.t, view, names)
        await ctx.chat.send(text, render.status_keyboard(ctx.t, view.record_id))
    await _footer(ctx, page, total)


def _places(views: list[RecordView]) -> set[str]:
    """The township and village codes of some records."""
    return {code for view in views for code in (view.village_code[:9], view.village_code)}


async def _footer(ctx: Ctx, page: int, total: int) -> None:
    """Where this page is, and the button to the next one when there is one."""
    pages = max(1, math.ceil(total / PAGE_SIZE))
    text = ctx.t.text("hr.pending.footer", {"total": total, "page": page + 1, "pages": pages})
    await ctx.chat.send(text, render.next_keyboard(ctx.t, page + 1) if page + 1 < pages else ())


# ---------------------------------------------------------------- /export


async def export_command(ctx: Ctx, arg: str) -> None:
    """The county's records as an XLSX document, numbers masked; `/export CODE` narrows to one county."""
    prefixes = await allowed_prefixes(ctx, EXPORT, "export")
    if not prefixes:
        return
    if arg:
        if level_of(arg) != "county" or not ctx.here.allows(EXPORT, arg):
            await ctx.chat.send(ctx.t.text("hr.refused"))
            await audit_entry(ctx, REFUSED, "county", arg if level_of(arg) else "-", f"action={EXPORT}")
            return
        prefixes = (arg,)
    if not await ratelimit.attempt(session=ctx.session, key=ctx.here.actor, action=EXPORT):
        await ctx.chat.send(ctx.t.text("hr.export.limited"))
        return
    await _send_export(ctx, prefixes)


async def _send_export(ctx: Ctx, prefixes: tuple[str, ...]) -> None:
    """Query, write the workbook off the event loop, send it, audit it."""
    query = export_query(ctx.t, prefixes)
    total = await count_matching(ctx.session, query)
    if not total or total > CHAT_EXPORT_MAX:
        key = "hr.export.too_many" if total else "hr.export.empty"
        await ctx.chat.send(ctx.t.text(key, {"n": total, "max": CHAT_EXPORT_MAX}))
        return
    rows = [row async for batch in stream_batches(ctx.session, query) for row in batch]
    data = await asyncio.to_thread(_workbook, ctx, rows)
    names = await names_of(ctx, set(prefixes))
    area = render.area_label(ctx.t, prefixes, names)
    stamp = datetime.now(CHINA).strftime("%Y%m%d")
    name = f"{ctx.t.text('hr.export.file')}_{'_'.join(prefixes)}_{stamp}.xlsx"
    caption = ctx.t.text("hr.export.caption", {"area": area, "n": len(rows)})
    await ctx.chat.send_file(HrFile(name, data, caption))
    await audit_entry(ctx, EXPORT, "county", scope_id(prefixes), f"rows={len(rows)} format=xlsx")


def _workbook(ctx: Ctx, rows: list[tuple]) -> bytes:
    """The rows as XLSX bytes."""
    buffer = io.BytesIO()
    write_xlsx(buffer, export_columns(ctx.t), rows, sheet_name=ctx.t.text("hr.export.sheet"), tz=CHINA)
    return buffer.getvalue()


# ---------------------------------------------------------------- /web


async def web_command(ctx: Ctx, arg: str) -> None:
    """A one-time sign-in link to the HR console, in a private chat only (a group's members could use it)."""
    settings = load_settings()  # the process's settings, read from the environment as at start-up
    link = None
    if ctx.here.private and ctx.here.staff:
        link = await sign_in_link(
            session=ctx.session, user_key=ctx.here.actor, settings=settings, now=datetime.now(UTC)
        )
    if link is None:
        await ctx.chat.send(ctx.t.text("web.link.refused"))
        await audit_entry(ctx, REFUSED, "command", "web", "action=web.link")
        return
    await audit_entry(ctx, "web.link", "user", None)
    await ctx.chat.send(ctx.t.text("web.link.sent", {"link": link, "minutes": settings.web_link_minutes}))


COMMANDS: dict[str, Callable[[Ctx, str], Awaitable[None]]] = {
    "summary": summary_command,
    "pending": pending_command,
    "export": export_command,
    "web": web_command,
}
