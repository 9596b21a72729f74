"""The console's routes: sign-in, reading pages, follow-up, downloads, admin pages."""

from __future__ import annotations

from aiohttp import web

from bot.channels.web.console.admin import Admin
from bot.channels.web.console.auth import Auth
from bot.channels.web.console.downloads import Downloads
from bot.channels.web.console.followup import FollowUp
from bot.channels.web.console.views import Views
from bot.core.services import Services
from bot.core.settings import Settings


def add_console_routes(app: web.Application, services: Services, settings: Settings) -> None:
    """Register /console/."""
    auth = Auth(services, settings)
    views, follow_up = Views(services, auth), FollowUp(services, auth)
    downloads, admin = Downloads(services, settings, auth), Admin(services, auth)
    router = app.router
    router.add_get("/console/sign-in", auth.sign_in_page)
    router.add_post("/console/sign-in", auth.sign_in)
    router.add_post("/console/sign-out", auth.sign_out)
    router.add_get("/console/signed-out", auth.signed_out)
    router.add_get("/console/", views.overview)
    router.add_get("/console/chart.png", views.chart)
    router.add_get("/console/wishes", views.wishes)
    router.add_get(r"/console/households/{household_id:\d{1,12}}", views.household)
    router.add_post(r"/console/records/{record_id:\d{1,12}}/status", follow_up.set_status)
    router.add_get("/console/downloads", downloads.index)
    router.add_get("/console/downloads/export.{fmt:xlsx|csv}", downloads.export)
    router.add_get("/console/downloads/progress.xlsx", downloads.progress)
    router.add_get("/console/admin/destinations", admin.destinations)
    router.add_get("/console/admin/people", admin.people)
    router.add_get("/console/admin/invitations", admin.invitations)
    router.add_post("/console/admin/invitations", admin.invite)
    router.add_get("/console/admin/audit", admin.audit_log)
    router.add_get("/console", _to_console)


async def _to_console(request: web.Request) -> web.StreamResponse:
    """/console without the slash."""
    raise web.HTTPFound("/console/")
