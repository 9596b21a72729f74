"""The WeCom callback routes for the process's aiohttp application.

`outreach run` (bot/cli/run.py) composes one aiohttp application from each configured channel's
route function; add_wecom_routes is the WeCom one: WECOM_APP_PATH and WECOM_KF_PATH on the
address `outreach run` listens on (WEB_HOST:WEB_PORT, behind the county's HTTPS reverse proxy).
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.channels.wecom.channel import WeComChannel, build_channel
from bot.core.services import Services
from bot.core.settings import Settings

log = logging.getLogger(__name__)
CHANNEL_KEY = web.AppKey("wecom_channel", WeComChannel)


def add_wecom_routes(app: web.Application, services: Services, settings: Settings) -> WeComChannel | None:
    """Add the callback URLs of the configured WeCom channels; start and stop with the application."""
    channel = build_channel(services, settings)
    if channel is None:
        return None
    channel.add_routes(app)
    app[CHANNEL_KEY] = channel

    async def start(_: web.Application) -> None:
        await channel.start()

    async def stop(_: web.Application) -> None:
        await channel.stop()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    return channel
