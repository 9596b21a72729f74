"""Build the bot and the dispatcher, and run them by long polling or as a webhook server.

Nothing here runs at import time: `outreach run` calls these functions, and the tests call
them the same way against a fake Bot API server.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    GetUpdates,
    SendMessage,
)
from aiogram.methods.base import Response
from aiogram.types import BotCommand

from bot.channels.telegram import digests
from bot.channels.telegram.handlers import build_router
from bot.channels.telegram.middlewares import ConversationMiddleware
from bot.channels.telegram.render import outbound_sender
from bot.core.identity import TELEGRAM
from bot.core.scheduler import start_background, stop_background
from bot.core.services import Services, open_services
from bot.core.settings import Settings, SettingsError
from content.i18n import Translator

log = logging.getLogger(__name__)
MAX_RETRY_WAIT = 300.0  # seconds between attempts to reach Telegram, at most
COMMANDS = ("start", "menu", "check", "intake", "help", "cancel", "language", "forget")
# Telegram language codes we register command descriptions for; "" is everyone else.
COMMAND_LANGUAGES = {"": "zh_Hans", "zh": "zh_Hans", "en": "en"}
# aiogram parametrises Response[T] per call and pydantic caches those classes weakly, so under
# load they are rebuilt (~8 ms each). Holding the ones the hot path uses keeps them alive.
_HOT_METHODS = (SendMessage, EditMessageText, EditMessageReplyMarkup, AnswerCallbackQuery, GetUpdates)


def build_bot(settings: Settings) -> Bot:
    """A Bot talking to Telegram, or to the Bot API server named by TELEGRAM_API_URL."""
    if settings.bot_token is None:
        raise SettingsError("setting BOT_TOKEN: needed to run on Telegram (without it, use `outreach chat`)")
    session = AiohttpSession()
    if settings.telegram_api_url:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(settings.bot_token.get_secret_value(), session=session, default=DefaultBotProperties())


def build_dispatcher(services: Services) -> Dispatcher:
    """The dispatcher with the conversation middleware and the dialog router."""
    dispatcher = Dispatcher(disable_fsm=True)  # the dialogs keep their own state
    dispatcher.update.outer_middleware(ConversationMiddleware(services))
    dispatcher.include_router(build_router(services))
    dispatcher["response_types"] = [Response[method.__returning__] for method in _HOT_METHODS]
    return dispatcher


async def set_commands(bot: Bot) -> None:
    """Register the command menu in both languages; a server that refuses it only costs the menu."""
    for code, lang in COMMAND_LANGUAGES.items():
        translator = Translator(lang)
        commands = [BotCommand(command=c, description=translator.text(f"cmd.{c}")) for c in COMMANDS]
        try:
            await bot.set_my_commands(commands, language_code=code or None)
        except TelegramNetworkError:
            raise  # not reached: until_reached tries again
        except TelegramAPIError as error:  # some local or test Bot API servers lack setMyCommands
            log.warning(
                "the Bot API server refused setMyCommands (%s): going on without a command menu", error
            )
            return


async def until_reached(call: Callable[[], Awaitable[None]], *, first_wait: float = 2.0) -> None:
    """Make the first call to Telegram, retrying with back-off while it cannot be reached.

    In mainland China Telegram is usually unreachable without a proxy (TELEGRAM_API_URL): that is
    said in one log line per attempt, and the bot keeps trying instead of stopping with a traceback.
    """
    wait = first_wait
    while True:
        try:
            await call()
            return
        except TelegramNetworkError as exc:
            log.warning("Telegram could not be reached (%s); trying again in %.0f s", exc.message, wait)
        await asyncio.sleep(wait)
        wait = min(wait * 2, MAX_RETRY_WAIT)


async def _no_webhook(bot: Bot) -> None:
    """Long polling needs the webhook off."""
    await bot.delete_webhook(drop_pending_updates=False)


async def _set_webhook(bot: Bot, url: str, secret: str) -> None:
    """Tell Telegram where to post updates, with the secret token it must send."""
    await bot.set_webhook(url, secret_token=secret)


async def _prepare(settings: Settings) -> tuple[Services, Bot, Dispatcher]:
    """Open the stores, build the bot and dispatcher, register the commands."""
    services = await open_services(settings, production=True)
    bot = build_bot(settings)
    dispatcher = build_dispatcher(services)
    services.outbound.register(TELEGRAM, outbound_sender(bot))
    digests.register(services.digests, bot)
    try:
        await until_reached(lambda: set_commands(bot))
    except BaseException:  # stopped (Ctrl-C, SIGTERM) while waiting for Telegram: close what was opened
        await bot.session.close()
        await services.close()
        raise
    # Everything built so far lives as long as the process: keep the GC from walking it.
    gc.collect()
    gc.freeze()
    return services, bot, dispatcher


@dataclass
class TelegramChannel:
    """The Telegram channel inside `outreach run`'s process (bot.cli.run)."""

    bot: Bot
    dispatcher: Dispatcher
    webhook_url: str | None  # set in webhook mode: where Telegram posts updates
    webhook_secret: str | None

    async def run(self) -> None:
        """Reach Telegram (retrying while it cannot be reached), then poll until cancelled.

        Run as a task: the other channels serve meanwhile. In webhook mode it sets the webhook and
        returns; the route added by `attach` answers the updates.
        """
        await until_reached(lambda: set_commands(self.bot))
        if self.webhook_url:
            url, secret = self.webhook_url, self.webhook_secret
            await until_reached(lambda: self._set_webhook(url, secret))
            return
        await until_reached(lambda: self._delete_webhook())
        try:  # the bot's session stays open for the updates still in hand; close() ends it
            await self.dispatcher.start_polling(self.bot, handle_signals=False, close_bot_session=False)
        finally:
            await _finish_handling(self.dispatcher)

    async def _set_webhook(self, url: str, secret: str | None) -> None:
        """Tell Telegram where to post updates."""
        await self.bot.set_webhook(url, secret_token=secret)

    async def _delete_webhook(self) -> None:
        """Long polling needs no webhook."""
        await self.bot.delete_webhook(drop_pending_updates=False)

    async def close(self) -> None:
        """Close the bot's HTTP session."""
        await self.bot.session.close()


def attach(services: Services, settings: Settings, app: Any, *, webhook: bool) -> TelegramChannel:
    """Build the bot on shared services; in webhook mode add its route to `app` (aiohttp).

    Nothing here talks to Telegram: `TelegramChannel.run` does, in a task of its own.
    """
    bot = build_bot(settings)
    dispatcher = build_dispatcher(services)
    services.outbound.register(TELEGRAM, outbound_sender(bot))
    digests.register(services.digests, bot)
    if not webhook:
        return TelegramChannel(bot, dispatcher, None, None)
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler

    if not settings.webhook_url or settings.webhook_secret is None:
        raise SettingsError("setting WEBHOOK_URL and WEBHOOK_SECRET: both are needed for --webhook")
    secret = settings.webhook_secret.get_secret_value()
    # Answer Telegram only once the update is applied (see run_webhook).
    handler = SimpleRequestHandler(dispatcher, bot, secret_token=secret, handle_in_background=False)
    handler.register(app, path=settings.webhook_path)
    return TelegramChannel(bot, dispatcher, f"{settings.webhook_url}{settings.webhook_path}", secret)


async def run_polling(settings: Settings, *, ready: asyncio.Event | None = None) -> None:
    """Long polling until cancelled or stopped by a signal."""
    services, bot, dispatcher = await _prepare(settings)
    stop = asyncio.Event()
    jobs = start_background(services, settings, stop)
    try:
        await until_reached(lambda: _no_webhook(bot))
        if ready is not None:
            dispatcher.startup.register(lambda: ready.set())
        await dispatcher.start_polling(bot, handle_signals=ready is None, close_bot_session=False)
    finally:
        await _finish_handling(dispatcher)
        await bot.session.close()
        await stop_background(jobs, stop)
        await services.close()


HANDLING_GRACE_SECONDS = 10.0


async def _finish_handling(dispatcher: Dispatcher) -> None:
    """Let the updates already taken from Telegram finish before the store closes.

    Polling hands each update to a task of its own and has already moved Telegram's offset past it,
    so an update cut off by the shutdown would never come again: it would be lost, not retried.
    """
    handling = [task for task in getattr(dispatcher, "_handle_update_tasks", ()) if not task.done()]
    if handling:
        await asyncio.wait(handling, timeout=HANDLING_GRACE_SECONDS)


async def run_webhook(settings: Settings, *, ready: asyncio.Event | None = None) -> None:
    """Serve Telegram's webhook with aiohttp; requests without the secret token are refused."""
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
    from aiohttp import web

    if not settings.webhook_url or settings.webhook_secret is None:
        raise SettingsError("setting WEBHOOK_URL and WEBHOOK_SECRET: both are needed for --webhook")
    services, bot, dispatcher = await _prepare(settings)
    secret = settings.webhook_secret.get_secret_value()
    app = web.Application()
    # Answer Telegram only once the update is applied: Telegram sends a chat's next update after
    # that, so one user's updates stay in order, and a failed one is delivered again.
    handler = SimpleRequestHandler(dispatcher, bot, secret_token=secret, handle_in_background=False)
    handler.register(app, path=settings.webhook_path)
    setup_application(app, dispatcher, bot=bot)
    await until_reached(lambda: _set_webhook(bot, f"{settings.webhook_url}{settings.webhook_path}", secret))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, settings.webhook_host, settings.webhook_port).start()
    log.info("webhook listening on %s:%s", settings.webhook_host, settings.webhook_port)
    stop = asyncio.Event()
    jobs = start_background(services, settings, stop)
    if ready is not None:
        ready.set()
    try:
        await asyncio.Event().wait()
    finally:
        await stop_background(jobs, stop)
        await runner.cleanup()
        await services.close()
