"""Downloads: the county's records as XLSX or CSV (masked), and the annual progress table.

The files are the ones `outreach export` and `outreach report progress` write (storage.hr_export,
bot.features.hr.tables), built in a worker thread into a temporary file, sent, then deleted.
Every download is audited (who, which counties, how many rows; no numbers).
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.channels.web.console.auth import Auth
from bot.channels.web.console.views import page, refused
from bot.core.services import Services
from bot.core.settings import Settings
from bot.features.hr.tables import day_start, export_job, export_query, measures, write_progress, year_bounds
from content.i18n import Translator
from content.progress_table import load_layout
from storage.hr_export import export_file
from storage.repositories import masks
from storage.repositories.reports import area_names, progress_counts

EXPORT = "hr.export"
TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
YEAR = re.compile(r"^(20\d\d)$")


def scope_id(prefixes: tuple[str, ...]) -> str:
    """The counties of a download as an audit target id (at most 64 characters)."""
    text = ",".join(prefixes) or "-"
    return text if len(text) <= 64 else text[:60] + ",..."


class Downloads:
    """The downloads page and its files."""

    def __init__(self, services: Services, settings: Settings, auth: Auth) -> None:
        self.services, self.settings, self.auth = services, settings, auth

    async def index(self, request: web.Request) -> web.Response:
        """The page with the download links."""
        officer = await self.auth.require(request)
        if not officer.prefixes(EXPORT):
            return refused(officer)
        return page("console_downloads.html", officer, year=datetime.now(UTC).year)

    async def export(self, request: web.Request) -> web.StreamResponse:
        """The records of the officer's counties, masked, as XLSX or CSV."""
        officer = await self.auth.require(request)
        fmt = request.match_info["fmt"]
        prefixes = officer.prefixes(EXPORT)
        if not prefixes or fmt not in TYPES:
            return refused(officer)
        since = _day(request.query.get("since", ""))
        t = Translator(officer.lang)
        async with self.services.database.session() as session:
            await masks.fill_missing(session=session, cipher=self.services.cipher)
        query = export_query(t, prefixes, since=day_start(since) if since else None)
        url = self.settings.db_url

        def write(out: Path) -> int:
            return export_file(export_job(url, t, query, out, fmt), cipher=self.services.cipher)

        body, rows = await _built(write, fmt)
        await self.auth.audit(
            officer, EXPORT, "county", scope_id(prefixes), f"rows={rows} format={fmt} via=web"
        )
        return _file(body, f"wishes-{date.today().isoformat()}.{fmt}", TYPES[fmt])

    async def progress(self, request: web.Request) -> web.StreamResponse:
        """The annual progress table of the officer's counties."""
        officer = await self.auth.require(request)
        prefixes = officer.prefixes(EXPORT)
        wanted = YEAR.match(request.query.get("year", ""))
        if not prefixes:
            return refused(officer)
        year = int(wanted.group(1)) if wanted else datetime.now(UTC).year
        layout = load_layout()
        start, end = year_bounds(year)
        async with self.services.database.session() as session:
            counts = await progress_counts(
                session=session, measures=measures(layout), start=start, end=end, prefixes=prefixes
            )
            names = await area_names(session=session, codes={c for c in counts if c is not None})
        t = Translator(officer.lang)
        body, rows = await _built(lambda out: write_progress(out, layout, counts, names, t, year), "xlsx")
        await self.auth.audit(
            officer, "hr.progress", "county", scope_id(prefixes), f"year={year} rows={rows}"
        )
        return _file(body, f"progress-{year}.xlsx", TYPES["xlsx"])


def _day(text: str) -> date | None:
    """A date from the form, or None."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


async def _built(write: Callable[[Path], Any], fmt: str) -> tuple[bytes, Any]:
    """Run a file writer in a thread on a temporary file; its bytes and what it returned."""
    with tempfile.TemporaryDirectory(prefix="outreach-web-") as folder:
        out = Path(folder) / f"download.{fmt}"
        result = await asyncio.to_thread(write, out)
        return out.read_bytes(), result


def _file(body: bytes, name: str, content_type: str) -> web.Response:
    """A download response."""
    return web.Response(
        body=body,
        headers={"Content-Type": content_type, "Content-Disposition": f'attachment; filename="{name}"'},
    )
