"""Who acts, in which chat, and which counties they may see there; decided on stored state only.

In a private chat an HR person sees their own scopes (storage: access_scope). In a group, only the
counties the group is registered for (hr_destination, by the group's channel key) that the person's
scopes also cover: a county A chat never shows county B's records, even to someone whose role
covers both. People and chats are channel keys ("tg:101", "wecom:zhangsan", "wecom:group:abc").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.outbound import Outbound
from bot.features.access.rules import Member, area_prefixes, can
from bot.features.hr.chat import HrChat
from content.i18n import Translator
from storage.repositories import audit
from storage.repositories.access import load_member
from storage.repositories.hr_destinations import list_destinations

STAFF_ROLES = frozenset({"hr", "admin"})
REFUSED = "access.refused"


@dataclass(frozen=True)
class Here:
    """A person in a chat and what they may see there."""

    member: Member
    chat_key: str  # the chat's channel key
    private: bool
    counties: tuple[str, ...] | None  # the group's registered counties; None in a private chat

    @property
    def actor(self) -> str:
        """The person's channel key, as audit entries and histories name them."""
        return self.member.key

    @property
    def staff(self) -> bool:
        """Whether the person has an HR or admin role at all."""
        return self.member.role in STAFF_ROLES

    def allows(self, action: str, county: str) -> bool:
        """Whether the person may do `action` on a county's records in this chat."""
        in_chat = self.counties is None or county in self.counties
        return in_chat and can(self.member, action, county)

    def prefixes(self, action: str) -> tuple[str, ...]:
        """The area code prefixes whose records the action may reach here (empty: none)."""
        if not can(self.member, action):
            return ()
        if self.counties is None:
            return area_prefixes(self.member)
        return tuple(county for county in self.counties if can(self.member, action, county))


@dataclass
class Ctx:
    """What an HR handler works with."""

    chat: HrChat
    session: AsyncSession
    here: Here
    t: Translator
    outbound: Outbound = field(default_factory=Outbound)  # households' channels, for their notices


async def where(*, session: AsyncSession, actor: str, chat_key: str, private: bool) -> Here:
    """The person (key) and chat (key) of an update, with the group's counties looked up only for staff."""
    member = await load_member(session=session, channel_key=actor)
    counties: tuple[str, ...] | None = None
    if not private:
        counties = await group_counties(session, chat_key) if member.role in STAFF_ROLES else ()
    return Here(member, chat_key, private, counties)


async def group_counties(session: AsyncSession, chat_key: str) -> tuple[str, ...]:
    """The counties whose records this group receives (active destinations only)."""
    rows = await list_destinations(session=session)
    return tuple(
        sorted({row.destination.county_code for row in rows if row.destination.chat_key == chat_key})
    )


async def audit_entry(
    ctx: Ctx, action: str, target_kind: str, target_id: str | int | None, detail: str | None = None
) -> None:
    """Append an audit entry for the acting person (ids and codes only). Commits."""
    await audit.record(
        session=ctx.session,
        actor=ctx.here.actor,
        action=action,
        target_kind=target_kind,
        target_id=target_id,
        channel=audit.channel_of(ctx.here.chat_key),
        detail=detail,
    )


def scope_id(prefixes: tuple[str, ...]) -> str:
    """The counties of a view as an audit target id (at most 64 characters)."""
    text = ",".join(prefixes) or "-"
    return text if len(text) <= 64 else text[:60] + ",..."
