"""Serve Telegram's webhook from several worker processes that share one listening socket.

    parent: check settings ─► migrate ─► bind the socket ─► fork N workers ─► wait until all serve
            ─► register commands and the webhook once ─► supervise (restart a worker that dies;
               SIGTERM/SIGINT stop them all)
    worker: open the stores ─► aiohttp on the inherited socket ─► serve until SIGTERM/SIGINT

A worker answers Telegram only after the update was handled and its conversation row committed.
Telegram sends a chat's next update only once the previous one was answered, so the updates of
one user reach the row lock in order even when they land on different workers; PostgreSQL's row
lock does the rest. SQLite has no such lock across processes, so it gets one worker only.

Nothing heavy is imported at module level: the settings are checked before aiogram is loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import multiprocessing
import os
import signal
import socket
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

from bot.core.settings import Settings, SettingsError
from storage.urls import parse_url

log = logging.getLogger(__name__)

BACKLOG = 2048
READY_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 15.0
# A worker that keeps dying (database gone, bad deploy) should stop the service, not spin.
RESTART_BUDGET = 5
RESTART_WINDOW_S = 60.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def check_workers(settings: Settings, workers: int) -> None:
    """Refuse, with one line naming the setting, what cannot be served by `workers` processes."""
    if workers < 1:
        raise SettingsError(f"--workers must be 1 or more, not {workers}")
    if settings.bot_token is None:
        raise SettingsError("setting BOT_TOKEN: needed to run on Telegram (without it, use `outreach chat`)")
    if not settings.webhook_url or settings.webhook_secret is None:
        raise SettingsError("setting WEBHOOK_URL and WEBHOOK_SECRET: both are needed for --webhook")
    if workers > 1 and parse_url(settings.db_url).is_sqlite:
        raise SettingsError(
            f"setting DATABASE_URL: --workers {workers} needs PostgreSQL "
            "(SQLite keeps a user's updates in order within one process only)"
        )


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound and listening on host:port, to be shared by the workers."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
        return socket.create_server((host, port), family=family, backlog=BACKLOG)
    except OSError as error:
        raise SettingsError(
            f"setting WEBHOOK_HOST/WEBHOOK_PORT: cannot listen on {host}:{port}: {error}"
        ) from None


def serve_webhook_workers(settings: Settings, workers: int) -> int:
    """Serve the webhook from `workers` processes until SIGTERM/SIGINT; return the exit status."""
    check_workers(settings, workers)
    sock = listening_socket(settings.webhook_host, settings.webhook_port)
    with sock:
        if workers == 1:
            asyncio.run(serve_on_socket(settings, sock, register=True))
            return 0
        # Loaded before fork so that the workers share these pages instead of importing again.
        importlib.import_module("bot.channels.telegram.app")
        migrate = importlib.import_module("storage.migrate")
        asyncio.run(migrate.upgrade_async(settings.db_url))
        return _Supervisor(settings, sock, workers).run()


# ---------------------------------------------------------------- one server


async def serve_on_socket(
    settings: Settings, sock: socket.socket, *, register: bool, on_ready: Callable[[], None] | None = None
) -> None:
    """Run one webhook server on a listening socket until SIGTERM/SIGINT."""
    from aiohttp import web

    from bot.core.services import open_services

    stop = _stop_event()
    services = await open_services(settings, production=True)
    try:
        runner = web.AppRunner(_application(settings, services), access_log=None)
        await runner.setup()
        try:
            await web.SockSite(runner, sock).start()
            if register:
                await register_webhook(settings)
            # Everything built so far lives as long as the process: keep the GC from walking it.
            gc.collect()
            gc.freeze()
            if on_ready is not None:
                on_ready()
            await stop.wait()
        finally:
            await runner.cleanup()
    finally:
        await services.close()


def _application(settings: Settings, services: Any) -> Any:
    """The aiohttp app: the webhook route, answered once the update is handled and committed."""
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
    from aiohttp import web

    from bot.channels.telegram.app import build_bot, build_dispatcher
    from bot.channels.telegram.render import outbound_sender
    from bot.core.identity import TELEGRAM

    assert settings.webhook_secret is not None  # check_workers made sure
    bot, dispatcher = build_bot(settings), build_dispatcher(services)
    services.outbound.register(TELEGRAM, outbound_sender(bot))
    app = web.Application()
    secret = settings.webhook_secret.get_secret_value()
    # handle_in_background=False: answering before the row is committed would let Telegram send
    # the user's next update to another worker, which could then take the row lock first.
    handler = SimpleRequestHandler(dispatcher, bot, secret_token=secret, handle_in_background=False)
    handler.register(app, path=settings.webhook_path)
    setup_application(app, dispatcher, bot=bot)
    return app


async def register_webhook(settings: Settings) -> None:
    """Register the command menu and point Telegram at the webhook (once, whatever the workers)."""
    from bot.channels.telegram.app import build_bot, set_commands

    assert settings.webhook_secret is not None
    bot = build_bot(settings)
    try:
        await set_commands(bot)
        url = f"{settings.webhook_url}{settings.webhook_path}"
        await bot.set_webhook(url, secret_token=settings.webhook_secret.get_secret_value())
    finally:
        await bot.session.close()
    log.info("webhook registered at %s%s", settings.webhook_url, settings.webhook_path)


def _stop_event() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    return stop


def _worker_main(settings: Settings, sock: socket.socket, ready: Connection) -> None:
    """Entry point of a forked worker: forget the parent's signal set-up, then serve."""
    signal.set_wakeup_fd(-1)
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
    asyncio.run(serve_on_socket(settings, sock, register=False, on_ready=lambda: _notify(ready)))


def _notify(ready: Connection) -> None:
    """Tell the parent this worker serves (a restarted worker's parent no longer listens)."""
    with contextlib.suppress(OSError):
        ready.send(os.getpid())


# ---------------------------------------------------------------- the parent


class _Supervisor:
    """Start the workers, register the webhook once they serve, restart the ones that die."""

    def __init__(self, settings: Settings, sock: socket.socket, workers: int) -> None:
        self.settings = settings
        self.sock = sock
        self.workers = workers
        self.context = multiprocessing.get_context("fork")
        self.children: dict[int, Any] = {}
        self.restarts: deque[float] = deque()
        self.stopping = False
        self.wake_read, self.wake_write = os.pipe()

    def run(self) -> int:
        """Serve until a stop signal (0) or until workers fail too often (1)."""
        for fd in (self.wake_read, self.wake_write):
            os.set_blocking(fd, False)
        previous = {signum: signal.signal(signum, self._on_signal) for signum in STOP_SIGNALS}
        previous_fd = signal.set_wakeup_fd(self.wake_write)
        try:
            return self._start_and_supervise()
        finally:
            self._stop_all()
            signal.set_wakeup_fd(previous_fd)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            os.close(self.wake_read)
            os.close(self.wake_write)

    def _start_and_supervise(self) -> int:
        """Start every worker, register the webhook, then watch them."""
        # Before fork: the workers inherit a heap the collector will not touch, so stays shared.
        gc.collect()
        gc.freeze()
        readies = {slot: self._start(slot) for slot in range(self.workers)}
        if not self._wait_ready(readies):
            return 0 if self.stopping else 1
        try:
            asyncio.run(register_webhook(self.settings))
        except Exception as error:  # Telegram unreachable, token refused...: the workers cannot serve
            log.error("could not register the webhook: %s", error)
            return 1
        log.info("%d webhook workers listening on %s:%s", self.workers, *self.sock.getsockname()[:2])
        return self._supervise()

    def _on_signal(self, signum: int, _frame: object) -> None:
        """Note the stop request; the wakeup fd interrupts the wait."""
        self.stopping = True

    def _start(self, slot: int) -> Connection:
        """Fork worker `slot`; return the pipe end it reports readiness on."""
        reader, writer = self.context.Pipe(duplex=False)
        process = self.context.Process(
            target=_worker_main, args=(self.settings, self.sock, writer), name=f"outreach-webhook-{slot}"
        )
        process.start()
        writer.close()  # the parent's copy: the reader sees EOF if the worker dies
        self.children[slot] = process
        return reader

    def _wait_ready(self, readies: dict[int, Connection]) -> bool:
        """Wait until every worker serves; False if one died, time ran out or a stop came."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        pending = dict(readies)
        try:
            while pending and not self.stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    log.error("webhook workers not ready after %.0f s", READY_TIMEOUT_S)
                    return False
                ready = wait([*pending.values(), self.wake_read], remaining)
                for slot, reader in list(pending.items()):
                    if reader in ready and not _got_ready(reader):
                        log.error("webhook worker %d exited during start-up", slot)
                        return False
                    if reader in ready:
                        del pending[slot]
                self._drain_wake()
            return not self.stopping
        finally:
            for reader in readies.values():
                reader.close()

    def _supervise(self) -> int:
        """Restart a worker that exits; return 0 on a stop signal, 1 when restarts run out."""
        while not self.stopping:
            sentinels = {process.sentinel: slot for slot, process in self.children.items()}
            for fd in wait([*sentinels, self.wake_read]):
                if fd in sentinels and not self.stopping and not self._restart(sentinels[fd]):
                    return 1
            self._drain_wake()
        return 0

    def _restart(self, slot: int) -> bool:
        """Replace a dead worker, unless too many died lately."""
        process = self.children[slot]
        process.join()
        now = time.monotonic()
        while self.restarts and self.restarts[0] < now - RESTART_WINDOW_S:
            self.restarts.popleft()
        if len(self.restarts) >= RESTART_BUDGET:
            log.error("webhook workers died %d times in %.0f s: stopping", RESTART_BUDGET, RESTART_WINDOW_S)
            return False
        self.restarts.append(now)
        log.warning("webhook worker %d exited with %s: restarting it", slot, process.exitcode)
        self._start(slot).close()  # it serves once up; nothing waits for its readiness
        return True

    def _stop_all(self) -> None:
        """SIGTERM every worker, wait for them to finish their updates, kill the stragglers."""
        for process in self.children.values():
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for process in self.children.values():
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning("webhook worker %s did not stop in time: killing it", process.pid)
                process.kill()
                process.join()

    def _drain_wake(self) -> None:
        """Empty the wakeup pipe (the signal handler already noted what it meant)."""
        with contextlib.suppress(BlockingIOError):
            while os.read(self.wake_read, 512):
                pass


def _got_ready(reader: Connection) -> bool:
    """Read the worker's ready note; False when the pipe closed without one (the worker died)."""
    try:
        reader.recv()
    except EOFError:
        return False
    return True
