"""The WeCom callback routes for the process's aiohttp application, and a server of its own.

`outreach run` composes one aiohttp application from each channel's route function;
add_wecom_routes is the WeCom one. run_wecom serves WeCom alone (tests, a WeCom-only county).
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.channels.wecom.channel import WeComChannel, build_channel
from bot.core.scheduler import start_background, stop_background
from bot.core.services import Services, open_services
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


async def run_wecom(settings: Settings, *, ready: asyncio.Event | None = None) -> None:
    """Serve the WeCom callbacks on WECOM_HOST:WECOM_PORT until cancelled."""
    services = await open_services(settings)
    app = web.Application()
    if add_wecom_routes(app, services, settings) is None:
        await services.close()
        from bot.core.settings import SettingsError

        raise SettingsError("setting WECOM_AGENT_ID or WECOM_KF_SECRET: no WeCom channel is configured")
    runner = web.AppRunner(app)
    await runner.setup()
    stop = asyncio.Event()
    jobs = start_background(services, settings, stop)  # draft reminders, retention, HR digests
    try:
        await web.TCPSite(runner, settings.wecom_host, settings.wecom_port).start()
        log.info("WeCom callbacks listening on %s:%s", settings.wecom_host, settings.wecom_port)
        if ready is not None:
            ready.set()
        await asyncio.Event().wait()
    finally:
        await stop_background(jobs, stop)
        await runner.cleanup()
        await services.close()
