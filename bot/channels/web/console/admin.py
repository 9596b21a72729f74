"""Admin pages: HR destinations, people and roles, invitations (list and create), the audit log.

Only for admins (bot.features.access.rules: hr.destinations, admin.users, admin.invite). Creating an
invitation follows the same rule as the chat's /invite (can_invite) and is audited; the code is
shown once on the page that created it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import web

from bot.channels.web.console.auth import Auth, Officer
from bot.channels.web.console.views import page, refused
from bot.core.services import Services
from bot.features.access.rules import ROLE_LEVELS, can, can_invite, level_of, parse_duration
from content.i18n import Translator
from storage.repositories import invitations
from storage.repositories import web as repo
from storage.repositories.access import list_members
from storage.repositories.hr_destinations import list_destinations
from storage.repositories.reports import area_names

AUDIT_PAGE = 100


def chat_of(destination: object) -> str:
    """A destination's chat, whatever the channel (a key, or a Telegram chat id)."""
    key = getattr(destination, "chat_key", None)
    return str(key if key is not None else getattr(destination, "chat_id", ""))


class Admin:
    """The admin pages."""

    def __init__(self, services: Services, auth: Auth) -> None:
        self.services, self.auth = services, auth

    async def _admin(self, request: web.Request, action: str) -> Officer | web.Response:
        """The officer when they may do the action at all; else the refusal page (audited)."""
        officer = await self.auth.require(request)
        if not officer.admin or not can(officer.member, action):
            await self.auth.audit(officer, "access.refused", "page", action, f"action={action}")
            return refused(officer)
        return officer

    async def destinations(self, request: web.Request) -> web.Response:
        """Which chats receive which county's digests."""
        officer = await self._admin(request, "hr.destinations")
        if isinstance(officer, web.Response):
            return officer
        async with self.services.database.session() as session:
            rows = await list_destinations(session=session, include_removed=True)
            names = await area_names(session=session, codes={row.destination.county_code for row in rows})
        rows = [row for row in rows if officer.allows("hr.destinations", row.destination.county_code)]
        return page("console_destinations.html", officer, rows=rows, names=names, chat_of=chat_of)

    async def people(self, request: web.Request) -> web.Response:
        """Staff and workers with their roles and scopes."""
        officer = await self._admin(request, "admin.users")
        if isinstance(officer, web.Response):
            return officer
        async with self.services.database.session() as session:
            members = await list_members(session=session)
        return page("console_people.html", officer, members=members)

    async def invitations(self, request: web.Request) -> web.Response:
        """The invitations, and the form to make one."""
        officer = await self._admin(request, "admin.invite")
        if isinstance(officer, web.Response):
            return officer
        return await self._invitations_page(officer)

    async def _invitations_page(self, officer: Officer, **extra: object) -> web.Response:
        """The invitations page, with a result of the form when there is one."""
        async with self.services.database.session() as session:
            rows = await repo.recent_invitations(session=session)
        values = {"code": None, "error": None, **extra}
        return page("console_invitations.html", officer, rows=rows, roles=tuple(ROLE_LEVELS)[:3], **values)

    async def invite(self, request: web.Request) -> web.Response:
        """Create an invitation (the code is shown once)."""
        officer = await self._admin(request, "admin.invite")
        if isinstance(officer, web.Response):
            return officer
        form = await request.post()
        role, area = str(form.get("role", "")), str(form.get("area", "")).strip()
        duration = parse_duration(str(form.get("valid", "")))
        t = Translator(officer.lang)
        if duration is None or level_of(area) is None or not can_invite(officer.member, role, area):
            await self.auth.audit(officer, "access.refused", "invitation", None, "action=admin.invite")
            return await self._invitations_page(officer, error=t.text("web.console.invite_refused"))
        now = datetime.now(UTC)
        async with self.services.database.session() as session:
            code, invitation = await invitations.create(
                session=session, role=role, level=str(level_of(area)), area_code=area,
                expires_at=now + (duration or timedelta(days=7)), created_by=officer.key, now=now,
            )  # fmt: skip
        await self.auth.audit(officer, "admin.invite", "invitation", invitation.id, f"role={role}")
        return await self._invitations_page(officer, code=code)

    async def audit_log(self, request: web.Request) -> web.Response:
        """The audit log, newest first."""
        officer = await self._admin(request, "admin.users")
        if isinstance(officer, web.Response):
            return officer
        before = request.query.get("before", "")
        async with self.services.database.session() as session:
            rows = await repo.recent_audit(
                session=session, before_id=int(before) if before.isdigit() else None, limit=AUDIT_PAGE
            )
        next_id = rows[-1].id if len(rows) == AUDIT_PAGE else None
        return page("console_audit.html", officer, rows=rows, next_id=next_id)
