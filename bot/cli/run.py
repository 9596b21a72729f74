"""`outreach run`: one process serves every configured channel on one aiohttp application.

    web chat and HR console   always (bot.channels.web), on WEB_HOST:WEB_PORT (127.0.0.1:8090)
    Telegram                  when BOT_TOKEN is set: long polling, or with --webhook its route
                              on the same application (also listening on WEBHOOK_HOST:WEBHOOK_PORT)
    other channels            a route function each, see CHANNEL_ROUTES

A channel that receives callbacks plugs in with one function

    def add_routes(app: aiohttp.web.Application, services: Services, settings: Settings) -> None

which adds its routes (and registers its outbound sender on services.outbound) before the
application starts. Add `(is_configured, "package.module:add_routes")` to CHANNEL_ROUTES: the module
is imported only when `is_configured(settings)` is true. The access log names method, path and
status only: query strings (sign-in secrets) never reach a log.

Without any channel settings, `outreach run` (and `make run`) serves the web pages on 127.0.0.1,
prints both addresses and a one-time admin sign-in link for a local admin ("console:local", the
same person as `outreach chat`), so a newcomer can try both sides at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.core.scheduler import start_background, stop_background
from bot.core.services import Services, open_services
from bot.core.settings import Settings, SettingsError
from bot.features.sign_in import sign_in_link
from storage.repositories.access import grant

log = logging.getLogger(__name__)
LOCAL_ADMIN = "console:local"
LOCAL_ADMIN_SCOPE = ("province", "410000")  # Henan, whose counties ship with the bot

RouteAdder = Callable[[web.Application, Services, Settings], None]
# (is the channel configured?, "module:function") — the web channel is always on.
CHANNEL_ROUTES: list[tuple[Callable[[Settings], bool], str]] = [
    (lambda settings: True, "bot.channels.web.app:add_routes"),
    (lambda settings: settings.wecom_app_enabled() or settings.wecom_kf_enabled(),
     "bot.channels.wecom.server:add_wecom_routes"),
]  # fmt: skip


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Access log lines without query strings or headers: method, path, status, time."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """One line per request."""
        self.logger.info("%s %s %s %.3fs", request.method, request.path, response.status, time)


def configured_channels(settings: Settings) -> list[RouteAdder]:
    """The route functions of the channels the settings turn on."""
    adders = []
    for is_configured, target in CHANNEL_ROUTES:
        if is_configured(settings):
            module, _, name = target.partition(":")
            adders.append(getattr(importlib.import_module(module), name))
    return adders


def listen_addresses(settings: Settings, webhook: bool) -> list[tuple[str, int]]:
    """Where the application listens: the web address, and Telegram's webhook address if different."""
    addresses = [(settings.web_host, settings.web_port)]
    if webhook and (settings.webhook_host, settings.webhook_port) not in addresses:
        addresses.append((settings.webhook_host, settings.webhook_port))
    return addresses


def has_channel_settings(settings: Settings) -> bool:
    """Whether any chat channel is configured (then no local admin link is printed)."""
    others = [target for is_configured, target in CHANNEL_ROUTES[1:] if is_configured(settings)]
    return settings.bot_token is not None or bool(others)


async def serve(
    settings: Settings, *, webhook: bool = False, ready: asyncio.Event | None = None, out: TextIO = sys.stdout
) -> None:
    """Serve every configured channel until cancelled."""
    services = await open_services(settings, production=has_channel_settings(settings))
    app = web.Application()
    stop = asyncio.Event()
    runner: web.AppRunner | None = None
    jobs: list[asyncio.Task[None]] = []
    telegram = None
    try:
        for add_routes in configured_channels(settings):
            add_routes(app, services, settings)
        telegram = _telegram(services, settings, app, webhook)
        runner = web.AppRunner(app, access_log_class=PathOnlyAccessLogger)
        await runner.setup()
        for host, port in listen_addresses(settings, webhook):
            await _listen(runner, host, port)
        jobs = start_background(services, settings, stop)
        await announce(services, settings, out, local_admin=not has_channel_settings(settings))
        if ready is not None:
            ready.set()
        if telegram is not None:
            await telegram.run()  # polling: until cancelled; webhook: returns once it is set
        await asyncio.Event().wait()
    finally:
        await stop_background(jobs, stop)
        if telegram is not None:
            await telegram.close()
        if runner is not None:
            await runner.cleanup()
        await services.close()


async def _listen(runner: web.AppRunner, host: str, port: int) -> None:
    """Listen on one address; a port in use is a one-line settings error."""
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        raise SettingsError(
            f"setting WEB_HOST/WEB_PORT: cannot listen on {host}:{port} ({exc.strerror})"
        ) from None


def _telegram(services: Services, settings: Settings, app: web.Application, webhook: bool) -> Any:
    """The Telegram channel when BOT_TOKEN is set (aiogram is imported only then)."""
    if settings.bot_token is None:
        return None
    from bot.channels.telegram.app import attach

    return attach(services, settings, app, webhook=webhook)


async def announce(services: Services, settings: Settings, out: TextIO, *, local_admin: bool) -> None:
    """Print where the pages are; for local use, a one-time sign-in link for the local admin."""
    out.write(f"web chat:   {settings.web_url}/c/\n")
    out.write(f"HR console: {settings.web_url}/console/\n")
    if local_admin:
        async with services.database.session() as session:
            await grant(session=session, channel_key=LOCAL_ADMIN, role="admin", scopes=[LOCAL_ADMIN_SCOPE])
            link = await sign_in_link(
                session=session, user_key=LOCAL_ADMIN, settings=settings, now=datetime.now(UTC)
            )
        minutes = settings.web_link_minutes
        out.write(f"sign in as the local admin (once, within {minutes} minutes): {link}\n")
        out.write("another link: outreach web link --as console:local\n")
    out.flush()


def run_command(settings: Settings, *, webhook: bool, workers: int) -> int:
    """`outreach run`: the exit status (SettingsError and ContentError are the caller's to print)."""
    if workers > 1 and not webhook:
        raise SettingsError("--workers needs --webhook (long polling is one process)")
    if workers > 1 and (settings.wecom_app_enabled() or settings.wecom_kf_enabled()):
        raise SettingsError(
            "--workers serves Telegram only: for WeCom, run several `outreach run` processes behind one "
            "address on PostgreSQL (see the README, Scaling out)"
        )
    if workers > 1:
        from bot.channels.telegram.workers import serve_webhook_workers

        return serve_webhook_workers(settings, workers)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings, webhook=webhook))
    return 0
