"""Console sign-in, sessions and CSRF.

GET  /console/sign-in?t=SECRET   a page with one button (link previews of chat apps fetch GETs:
                                 they must not spend the one-time link)
POST /console/sign-in            spends the link, opens a session, sets the cookie, goes to /console/
POST /console/sign-out           ends the session

The session cookie (HttpOnly, SameSite=Strict, Secure behind HTTPS, path /console/) holds a random
secret; the database keeps its hash. Every form carries a CSRF token derived from that secret
(HMAC), checked on every POST. A session idle for WEB_IDLE_MINUTES is over.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from bot.channels.web.templating import render
from bot.core.services import Services
from bot.core.settings import Settings
from bot.features.access.rules import Member, area_prefixes, can
from content.i18n import Translator
from storage.repositories import audit
from storage.repositories import web as repo
from storage.repositories.access import load_member

COOKIE = "outreach_console"
SECRET = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
STAFF_ROLES = frozenset({"hr", "admin"})
CHANNEL = "web"


@dataclass(frozen=True)
class Officer:
    """The signed-in person of a request."""

    session_id: int
    member: Member
    csrf: str
    lang: str

    @property
    def key(self) -> str:
        """The person's channel key (audit entries name them by it)."""
        return self.member.key

    @property
    def admin(self) -> bool:
        """Whether the admin pages are theirs."""
        return self.member.role == "admin"

    def prefixes(self, action: str) -> tuple[str, ...]:
        """The area prefixes the action reaches (empty: none)."""
        return area_prefixes(self.member) if can(self.member, action) else ()

    def allows(self, action: str, area: str) -> bool:
        """Whether the action is allowed on an area."""
        return can(self.member, action, area)


def csrf_of(secret: str) -> str:
    """The CSRF token of a session: an HMAC of its secret, so nothing more is stored."""
    return hmac.new(secret.encode(), b"csrf", hashlib.sha256).hexdigest()[:40]


def console_language(request: web.Request) -> str:
    """The console's language: ?lang= is not used (URLs stay plain); the browser's first choice."""
    first = request.headers.get("Accept-Language", "zh").split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "zh_Hans"


class Auth:
    """Sign-in, sign-out and the officer of a request."""

    def __init__(self, services: Services, settings: Settings) -> None:
        self.services, self.settings = services, settings
        self.secure = settings.web_url.startswith("https://")
        self.idle_seconds = settings.web_idle_minutes * 60

    async def officer(self, request: web.Request) -> Officer | None:
        """The signed-in staff member of a request, or None (no, ended or idle session; no role)."""
        secret = request.cookies.get(COOKIE, "")
        if not SECRET.match(secret):
            return None
        async with self.services.database.session() as session:
            found = await repo.touch_session(
                session=session, secret=secret, now=time.time(), idle_seconds=self.idle_seconds
            )
            if found is None:
                return None
            member = await load_member(session=session, channel_key=found.user_key)
        if member.role not in STAFF_ROLES:
            return None
        return Officer(found.id, member, csrf_of(secret), console_language(request))

    async def require(self, request: web.Request) -> Officer:
        """The officer, or a redirect to the signed-out page."""
        found = await self.officer(request)
        if found is None:
            raise web.HTTPSeeOther("/console/signed-out")
        if request.method == "POST":
            form = await request.post()
            if not hmac.compare_digest(str(form.get("csrf", "")), found.csrf):
                await self.audit(
                    found, "access.refused", "form", request.path.strip("/").replace("/", "."), "csrf"
                )
                raise web.HTTPForbidden(text=Translator(found.lang).text("web.console.csrf"))
        return found

    async def audit(
        self, officer: Officer, action: str, kind: str, target: str | int | None, detail: str | None = None
    ) -> None:
        """One audit entry for something the officer did in the console."""
        async with self.services.database.session() as session:
            await audit.record(
                session=session, actor=officer.key, action=action, target_kind=kind, target_id=target,
                channel=CHANNEL, detail=detail,
            )  # fmt: skip

    # ---------------------------------------------------------------- handlers

    async def sign_in_page(self, request: web.Request) -> web.Response:
        """The confirmation page of a sign-in link (GET spends nothing)."""
        t = Translator(console_language(request))
        secret = request.query.get("t", "")
        html = render("console_sign_in.html", t, secret=secret if SECRET.match(secret) else "", officer=None)
        return web.Response(text=html, content_type="text/html")

    async def sign_in(self, request: web.Request) -> web.StreamResponse:
        """Spend the link and open a session."""
        t = Translator(console_language(request))
        secret = str((await request.post()).get("t", ""))
        async with self.services.database.session() as session:
            user_key = (
                await repo.redeem_link(session=session, secret=secret, now=datetime.now(UTC))
                if SECRET.match(secret)
                else None
            )
            if user_key is None:
                html = render("console_sign_in.html", t, secret="", officer=None, failed=True)
                return web.Response(text=html, content_type="text/html", status=403)
            cookie = await repo.open_session(session=session, user_key=user_key, now=time.time())
            await audit.record(
                session=session, actor=user_key, action="web.sign_in", target_kind="session", target_id=None,
                channel=CHANNEL,
            )  # fmt: skip
        response = web.HTTPSeeOther("/console/")
        response.set_cookie(
            COOKIE, cookie, path="/console/", httponly=True, samesite="Strict", secure=self.secure
        )
        raise response

    async def sign_out(self, request: web.Request) -> web.StreamResponse:
        """End the session and forget the cookie."""
        officer = await self.require(request)
        async with self.services.database.session() as session:
            await repo.end_session(session=session, session_id=officer.session_id, now=datetime.now(UTC))
        await self.audit(officer, "web.sign_out", "session", officer.session_id)
        response = web.HTTPSeeOther("/console/signed-out")
        response.del_cookie(COOKIE, path="/console/")
        raise response

    async def signed_out(self, request: web.Request) -> web.Response:
        """Where an ended or missing session lands."""
        t = Translator(console_language(request))
        return web.Response(text=render("console_signed_out.html", t, officer=None), content_type="text/html")
