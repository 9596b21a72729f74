"""The web chat: /c/ shows the conversation, forms post a button, a text or a language.

GET  /c/           the page (a first visit starts the dialog and sets the cookie)
GET  /c/?v=CODE    a poster's link: the engine's "/start v_CODE", then back to /c/
POST /c/           choice+token, text, or lang; then 303 back to /c/#latest (no JavaScript needed)

The person is an anonymous key "web:<hash>" derived from a random secret in a cookie (HttpOnly,
SameSite=Lax, Secure behind HTTPS): the database never holds the cookie, and no URL holds either.
Every input takes the same turn path as the other channels (bot.core.turns.take_turn).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import replace
from datetime import date

from aiohttp import web

from bot.channels.web import transcript
from bot.channels.web.templating import render
from bot.core.identity import WEB, make_key
from bot.core.services import Services
from bot.core.settings import Settings
from bot.core.turns import take_turn
from content.i18n import Translator, language_from_telegram
from dialogs.engine import LANGUAGE_PREFIX
from dialogs.model import LANGUAGES, Input, State

COOKIE = "outreach_chat"
COOKIE_DAYS = 180
VILLAGE = re.compile(r"^\d{12}$")
SECRET = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
MAX_TEXT = 2000  # characters of one typed message


def key_of(secret: str) -> str:
    """The conversation key of a cookie secret."""
    return make_key(WEB, hashlib.sha256(secret.encode()).hexdigest()[:32])


def browser_language(request: web.Request) -> str:
    """The first language the browser asks for, as one of ours."""
    first = request.headers.get("Accept-Language", "").split(",")[0].split(";")[0].strip()
    return language_from_telegram(first)


class WebChat:
    """The chat's request handlers."""

    def __init__(self, services: Services, settings: Settings) -> None:
        self.services = services
        self.secure = settings.web_url.startswith("https://")

    def add_routes(self, app: web.Application) -> None:
        """Register /c/."""
        app.router.add_get("/c/", self.show)
        app.router.add_post("/c/", self.post)
        app.router.add_get("/c", _to_chat)
        app.router.add_get("/favicon.ico", _no_icon)

    # ---------------------------------------------------------------- handlers

    async def show(self, request: web.Request) -> web.StreamResponse:
        """The conversation; a first visit (or a poster's link) runs /start first."""
        secret = self._secret(request)
        village = request.query.get("v", "")
        if secret is None or VILLAGE.match(village):
            fresh = secret is None
            secret = secret or secrets.token_urlsafe(32)
            arg = f"v_{village}" if VILLAGE.match(village) else ""
            await self.turn(key_of(secret), Input.command("start", arg), browser_language(request), None)
            response = web.HTTPSeeOther("/c/#latest")
            if fresh or village:
                self._set_cookie(response, secret)
            raise response
        return await self.page(key_of(secret), browser_language(request))

    async def post(self, request: web.Request) -> web.StreamResponse:
        """A pressed button, a typed text or a language; then back to the page."""
        secret = self._secret(request)
        if secret is None:
            raise web.HTTPSeeOther("/c/")
        form = await request.post()
        key, lang = key_of(secret), browser_language(request)
        if form.get("lang") in LANGUAGES:
            await self.switch_language(key, str(form["lang"]), lang)
        elif form.get("choice"):
            await self.turn(key, Input.choice(str(form["choice"]), _token(form.get("token"))), lang, "choice")
        elif isinstance(form.get("text"), str) and str(form["text"]).strip():
            text = str(form["text"])[:MAX_TEXT]
            await self.turn(key, _typed(text), lang, text)
        raise web.HTTPSeeOther("/c/#latest")

    async def page(self, key: str, default_lang: str) -> web.Response:
        """The page as stored, in the conversation's language."""
        async with self.services.database.session() as session:
            page = await transcript.load(session, self.services.cipher, key)
        lang = _page_language(page, default_lang)
        buttons, token = page.buttons
        html = render("chat.html", Translator(lang), entries=page.entries, buttons=buttons, token=token)
        return web.Response(text=html, content_type="text/html")

    # ---------------------------------------------------------------- turns

    async def turn(
        self, key: str, user_input: Input, default_lang: str, sent: str | None, *, show: bool = True
    ) -> State:
        """One input through the engine; the page gets what was sent and the replies (unless not `show`)."""
        services = self.services
        user_input = replace(user_input, today=date.today().isoformat())
        async with services.conversations.open(key) as slot, services.database.session() as session:
            state, replies = await take_turn(
                book=services.book, slot=slot, user_input=user_input, key=key, default_lang=default_lang,
                effects=services.effects, session=session, cipher=services.cipher,
            )  # fmt: skip
            if not show:
                return state
            async with slot.side_writes():
                page = await transcript.load(session, services.cipher, key)
                mine = _what_was_sent(page, user_input, sent)
                page.add([*mine, *transcript.bot_entries(Translator(state.lang), replies)])
                page.lang = state.lang
                await transcript.store(session, services.cipher, key, page)
        return state

    async def switch_language(self, key: str, wanted: str, default_lang: str) -> None:
        """The header's language buttons: ask the engine's language question and answer it at once."""
        state = await self.turn(key, Input.command("language"), default_lang, None, show=False)
        await self.turn(key, Input.choice(LANGUAGE_PREFIX + wanted, state.seq), default_lang, None)

    # ---------------------------------------------------------------- the cookie

    def _secret(self, request: web.Request) -> str | None:
        """The cookie's secret when it is well formed."""
        value = request.cookies.get(COOKIE, "")
        return value if SECRET.match(value) else None

    def _set_cookie(self, response: web.StreamResponse, secret: str) -> None:
        """Keep the conversation's secret in the browser."""
        response.set_cookie(
            COOKIE, secret, max_age=COOKIE_DAYS * 86400, path="/c/", httponly=True, samesite="Lax",
            secure=self.secure,
        )  # fmt: skip


async def _to_chat(request: web.Request) -> web.StreamResponse:
    """/c without the slash."""
    raise web.HTTPFound("/c/")


async def _no_icon(request: web.Request) -> web.StreamResponse:
    """Browsers ask for an icon; there is none."""
    return web.Response(status=204)


def _token(raw: object) -> int | None:
    """A button's token from the form."""
    return int(raw) if isinstance(raw, str) and raw.isdigit() and len(raw) < 10 else None


def _typed(text: str) -> Input:
    """A typed line: a /command or text, as the other channels read it."""
    stripped = text.strip()
    if stripped.startswith("/"):
        head, _, arg = stripped.partition(" ")
        return Input.command(head[1:], arg.strip())
    return Input.text(text)


def _what_was_sent(page: transcript.Page, user_input: Input, sent: str | None) -> list[transcript.Entry]:
    """The person's own message as the page shows it: the pressed button's label, or the text."""
    if sent == "choice":
        label = page.label_of(user_input.value)
        return [transcript.Entry("me", label)] if label else []
    return [transcript.Entry("me", sent)] if sent else []


def _page_language(page: transcript.Page, default_lang: str) -> str:
    """The language the page was last written in: the conversation's, or the browser's."""
    return page.lang if page.lang in LANGUAGES else default_lang
