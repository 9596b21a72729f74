"""The web channel's routes on the bot's aiohttp application.

    add_routes(app, services, settings)

adds the chat (/c/), the HR console (/console/), the static files (/static/web/) and the security
headers middleware, and registers the outbound sender for "web:" keys. bot.cli.run composes it
with the other channels' route functions into one application.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.channels.web import transcript
from bot.channels.web.chat import WebChat
from bot.channels.web.console.routes import add_console_routes
from bot.channels.web.security import security_headers
from bot.core.identity import WEB
from bot.core.services import Services
from bot.core.settings import Settings

STATIC_DIR = Path(__file__).parent / "static"


def add_routes(app: web.Application, services: Services, settings: Settings) -> None:
    """Serve the web chat and the HR console from `app` (call before the app starts)."""
    app.middlewares.append(security_headers)
    WebChat(services, settings).add_routes(app)
    add_console_routes(app, services, settings)
    app.router.add_static("/static/web/", STATIC_DIR, append_version=False)
    app.router.add_get("/", _home)
    services.outbound.register(WEB, transcript.outbound_sender(services))


async def _home(request: web.Request) -> web.StreamResponse:
    """The bare address opens the chat."""
    raise web.HTTPFound("/c/")
