"""/hr_add, /hr_remove and /hr_list: admins choose which chats receive which county's digests.

A chat is a channel key ("tg:-1001234", "wecom:zhangsan", "wecom:group:abc"); a bare number is
the Telegram shorthand for "tg:<number>".

`handle_hr_command` is routed from the generic handler; it answers with a `Reply` (a catalog key
and parameters) that the channel renders in the admin's language. Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.identity import TELEGRAM, is_key, make_key
from bot.features.access.rules import Member, can, covers, level_of
from dialogs.model import Input, Items, Number, Ref, Reply
from storage.models import utc_now
from storage.repositories import audit
from storage.repositories import hr_destinations as destinations

COMMANDS = ("hr_add", "hr_remove", "hr_list")
ACTION = "hr.destinations"
TARGET_KIND = "hr_destination"


@dataclass(frozen=True)
class HrCommand:
    """A parsed /hr_add or /hr_remove: the county and the chat's key."""

    name: str
    county: str
    chat_key: str


def destination_key(text: str) -> str | None:
    """A chat's key from what an admin typed: a key, or a Telegram chat id; None otherwise."""
    if is_key(text):
        return text
    if text.lstrip("-").isdigit() and text.lstrip("-").isascii() and int(text) != 0:
        return make_key(TELEGRAM, int(text))
    return None


def parse_hr_command(command: Input) -> HrCommand | None:
    """COUNTY_CODE CHAT (a key or a Telegram chat id) after /hr_add or /hr_remove; None if unparsable."""
    parts = command.arg.split()
    if command.value not in ("hr_add", "hr_remove") or len(parts) != 2:
        return None
    county, chat = parts
    key = destination_key(chat)
    if level_of(county) != "county" or key is None:
        return None
    return HrCommand(command.value, county, key)


async def handle_hr_command(
    command: Input, member: Member, session: AsyncSession, *, now: datetime | None = None
) -> Reply:
    """The answer to an /hr_* command from `member`; changes are committed and audited."""
    if command.value == "hr_list":
        return await _list(member, session)
    parsed = parse_hr_command(command)
    if parsed is None:
        return Reply("delivery.hr.usage") if can(member, ACTION) else Reply("delivery.hr.not_allowed")
    if not can(member, ACTION, parsed.county):
        return Reply("delivery.hr.not_allowed")
    if parsed.name == "hr_add":
        return await _add(parsed, member, session, now or utc_now())
    return await _remove(parsed, member, session, now or utc_now())


async def _add(parsed: HrCommand, member: Member, session: AsyncSession, now: datetime) -> Reply:
    """Add (or revive and repair) a destination."""
    row, created = await destinations.add_destination(
        session=session, county_code=parsed.county, chat_key=parsed.chat_key, added_by=member.key, now=now
    )
    await _audit(session, member, row.id, "add" if created else "revive", parsed, now)
    key = "delivery.hr.added" if created else "delivery.hr.revived"
    return Reply(key, (("county", parsed.county), ("chat", parsed.chat_key)))


async def _remove(parsed: HrCommand, member: Member, session: AsyncSession, now: datetime) -> Reply:
    """Stop delivering to a destination."""
    params = (("county", parsed.county), ("chat", parsed.chat_key))
    removed = await destinations.remove_destination(
        session=session, county_code=parsed.county, chat_key=parsed.chat_key, now=now
    )
    if removed is None:
        return Reply("delivery.hr.not_found", params)
    await _audit(session, member, removed, "remove", parsed, now)
    return Reply("delivery.hr.removed", params)


async def _list(member: Member, session: AsyncSession) -> Reply:
    """The destinations of the counties the member covers, one line each."""
    if not can(member, ACTION):
        return Reply("delivery.hr.not_allowed")
    found = await destinations.list_destinations(session=session)
    rows = [row for row in found if covers(member, row.destination.county_code)]
    if not rows:
        return Reply("delivery.hr.list_empty")
    return Reply("delivery.hr.list", (("items", Items(tuple(_item(row) for row in rows))),))


def _item(row: destinations.DestinationRow) -> Ref:
    """One destination: county, chat, counts, and whether it is paused."""
    found = row.destination
    state = Ref("delivery.hr.broken") if found.broken_at is not None else ""
    return Ref("delivery.hr.list_item", (
        ("county", found.county_code), ("chat", found.chat_key), ("waiting", Number(row.waiting)),
        ("delivered", Number(row.delivered)), ("state", state),
    ))  # fmt: skip


async def _audit(
    session: AsyncSession,
    member: Member,
    destination_id: int | None,
    what: str,
    parsed: HrCommand,
    now: datetime,
) -> None:
    """One audit entry: ids and codes only (a chat id could look like a phone number), the chat's channel."""
    detail = f"{what} county={parsed.county} channel={audit.channel_of(parsed.chat_key)}"
    await audit.record(
        session=session, actor=member.key, action=ACTION, target_kind=TARGET_KIND, target_id=destination_id,
        channel=audit.channel_of(member.key), detail=detail, now=now,
    )  # fmt: skip
