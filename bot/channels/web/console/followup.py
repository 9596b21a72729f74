"""Follow-up from the console: set a record's status with a note; the household is told once.

POST /console/records/{id}/status  (csrf, status, note)
    scope check (hr.set_status) ──► compare-and-set + history row (storage.repositories.followup)
    ──► the note (numbers masked) ──► audit ──► the household told through its own channel
        (bot.features.hr.notices: once; held and shown as "not told yet" when its channel cannot)
"""

from __future__ import annotations

from aiohttp import web

from bot.channels.web.console.auth import Auth
from bot.channels.web.console.views import refused
from bot.core.services import Services
from bot.features.hr.notices import notify_household
from storage.models import utc_now
from storage.repositories import followup as repo
from storage.repositories.web_wishes import household_of

SET_STATUS = "hr.set_status"


class FollowUp:
    """The status form's handler."""

    def __init__(self, services: Services, auth: Auth) -> None:
        self.services, self.auth = services, auth

    async def set_status(self, request: web.Request) -> web.StreamResponse:
        """Apply the form, then show the household page again."""
        officer = await self.auth.require(request)
        form = await request.post()
        record_id = int(request.match_info["record_id"])
        status, note = str(form.get("status", "")), str(form.get("note", "")).strip()
        async with self.services.database.session() as session:
            county = await repo.county_of(session=session, record_id=record_id)
            allowed = county is not None and officer.allows(SET_STATUS, county)
            if not allowed or status not in repo.FOLLOW_UP_STATUSES:
                await self.auth.audit(
                    officer, "access.refused", "intent_record", record_id, f"action={SET_STATUS}"
                )
                return refused(officer)
            change = await repo.set_status(
                session=session, record_id=record_id, status=status, actor=officer.key, chat_key=None,
                now=utc_now(),
            )  # fmt: skip
            household_id = await household_of(session=session, record_id=record_id)
            if change.outcome == repo.CHANGED and change.change_id is not None:
                if note:
                    await repo.attach_note(
                        session=session, change_id=change.change_id, note=repo.masked_note(note)
                    )
                await self.auth.audit(officer, SET_STATUS, "intent_record", record_id, f"status={status}")
                await notify_household(self.services.outbound, session, change.change_id)
        outcome = change.outcome if change.outcome in OUTCOMES else "refused"
        raise web.HTTPSeeOther(f"/console/households/{household_id}?done={outcome}#record-{record_id}")


OUTCOMES = (repo.CHANGED, repo.UNCHANGED, repo.BUSY, repo.NEWER_OPEN, repo.MISSING)
