"""The console's routes (filled in by the console modules)."""

from __future__ import annotations

from aiohttp import web

from bot.core.services import Services
from bot.core.settings import Settings


def add_console_routes(app: web.Application, services: Services, settings: Settings) -> None:
    """Register /console/."""
