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
from bot.cli.run import PathOnlyAccessLogger
from bot.core.services import Services, open_services
from bot.core.settings import Settings, load_settings

CHROMIUM = "/usr/bin/chromium"
WEB_KEY = "web-test-key-0123456789-abcdefghijklmnop"  # DATA_KEY of the web tests
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
        data_dir=tmp_path, database_url=database_url, data_key=WEB_KEY, bot_token=None, **overrides
    )


@asynccontextmanager
async def web_server(settings: Settings) -> AsyncIterator[Running]:
    """The web channel on 127.0.0.1 and a free port, for the duration of the block."""
    services = await open_services(settings)
    app = web.Application()
    add_routes(app, services, settings)
    runner = web.AppRunner(app, access_log_class=PathOnlyAccessLogger)  # as `outreach run` serves
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


# ---------------------------------------------------------------- console data


async def seed_counties(services: Services, households: int = 3) -> dict[str, list[int]]:
    """Staff of tests.hr_support (HR of counties A and B, an admin of both) and households in each.

    Returns the household ids by county. The households are entered by a worker ("tg:900").
    """
    from bot.features.intake.effects import member_eligibility
    from content.benefits import load_rules
    from storage.repositories import areas
    from storage.repositories.access import grant
    from storage.repositories.intake import submit_intake
    from tests import hr_support as hr

    made: dict[str, list[int]] = {hr.COUNTY_A: [], hr.COUNTY_B: []}
    async with services.database.session() as session:
        await areas.import_areas(
            session=session,
            rows=[
                {"code": hr.TOWNSHIP_B, "name": "城关镇", "parent_code": hr.COUNTY_B, "level": "4"},
                {"code": hr.VILLAGE_B, "name": "东关村", "parent_code": hr.TOWNSHIP_B, "level": "5"},
            ],
        )
        await grant(session=session, channel_key=f"tg:{hr.HR_A}", role="hr", scopes=[("county", hr.COUNTY_A)])
        await grant(session=session, channel_key=f"tg:{hr.HR_B}", role="hr", scopes=[("county", hr.COUNTY_B)])
        await grant(session=session, channel_key=f"tg:{hr.ADMIN}", role="admin", scopes=[("city", "410200")])
        for number in range(households):
            for county, village in ((hr.COUNTY_A, hr.VILLAGE_A), (hr.COUNTY_B, hr.VILLAGE_B)):
                serial = 100 + number * 10 + (county == hr.COUNTY_B) * 5
                data = hr.submission(village, f"张{number}强", f"张{number}红", serial)
                result = await submit_intake(
                    session=session, submission=data, cipher=services.cipher, submitted_by="tg:900",
                    now=hr.NOW, eligibility_by_member=member_eligibility(data, load_rules(), hr.NOW.date()),
                )  # fmt: skip
                made[county].append(result.household_id)
    return made


async def sign_in_link_for(services: Services, settings: Settings, key: str) -> str:
    """A fresh one-time console link for a staff member."""
    from datetime import UTC, datetime

    from bot.features.sign_in import sign_in_link

    async with services.database.session() as session:
        link = await sign_in_link(session=session, user_key=key, settings=settings, now=datetime.now(UTC))
    assert link is not None, f"{key} is not staff"
    return link
