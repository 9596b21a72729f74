"""A running web channel for tests: the bot's services, the aiohttp app on a free port, a browser.

`web_server(settings)` serves exactly what `outreach run` serves for the web (bot.channels.web.app);
`browser()` is Playwright's Chromium from Debian's package (/usr/bin/chromium), never downloaded.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.channels.web.app import add_routes
from bot.core.services import Services, open_services
from bot.core.settings import Settings, load_settings

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 360, "height": 640}
# Screenshots go outside the repository (copy the ones the README shows into docs/screenshots/).
SCREENSHOTS = Path(os.environ.get("WEB_SCREENSHOTS", Path(tempfile.gettempdir()) / "outreach-screenshots"))


@dataclass
class Running:
    """A web server under test."""

    url: str
    services: Services
    settings: Settings
    app: web.Application


def web_settings(tmp_path: Path, database_url: str | None = None, **overrides: Any) -> Settings:
    """Settings for a test bot in tmp_path (no channel configured)."""
    return load_settings(
        data_dir=tmp_path, database_url=database_url, data_key="k" * 40, bot_token=None, **overrides
    )


@asynccontextmanager
async def web_server(settings: Settings) -> AsyncIterator[Running]:
    """The web channel on 127.0.0.1 and a free port, for the duration of the block."""
    services = await open_services(settings)
    app = web.Application()
    add_routes(app, services, settings)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield Running(f"http://127.0.0.1:{port}", services, settings, app)
    finally:
        await runner.cleanup()
        await services.close()


def need_chromium() -> None:
    """Skip the test, with the reason, when Debian's chromium is not installed."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")


@asynccontextmanager
async def browser() -> AsyncIterator[Any]:
    """Chromium driven by Playwright (async API)."""
    need_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield chromium
        finally:
            await chromium.close()


async def screenshot(page: Any, name: str) -> Path:
    """Save a screenshot of the page for people to look at (SCREENSHOTS/NAME.png)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


def has_soffice() -> str | None:
    """LibreOffice's command, when installed."""
    return shutil.which("soffice")
