"""The console's reading pages: overview (with the chart), the wishes list, a household's page.

Every page is limited to the officer's counties by the same rules as the chat commands
(bot.features.access.rules: hr.summary, hr.pending); a household page out of scope is refused and
audited, one in scope is audited as viewed. Numbers are shown masked.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta, timezone

from aiohttp import web

from bot.channels.web.console.auth import Auth, Officer
from bot.channels.web.templating import render
from bot.core.services import Services
from content.benefits import load_rules
from content.i18n import Translator
from storage.exports.chart import draw_wishes_chart
from storage.repositories import web_wishes as wishes
from storage.repositories.followup import FOLLOW_UP_STATUSES
from storage.repositories.reports import area_names, summary

CHINA = timezone(timedelta(hours=8))
PAGE_SIZE = 50
KINDS = ("technical_school", "vocational_training", "apprenticeship", "entrepreneurship")
STATUSES = ("new", *FOLLOW_UP_STATUSES)
DONE = ("changed", "unchanged", "busy", "newer_open", "missing")
TOWNSHIP, VILLAGE = re.compile(r"^\d{9}$"), re.compile(r"^\d{12}$")


def value(t: Translator, field: str, code: object) -> str:
    """A coded value in words (the HR catalog's labels); an unknown code as it is."""
    if code is None or code == "":
        return ""
    key = f"hr.v.{field}.{code}"
    return t.text(key) if key in t.messages or key in t.fallback else str(code)


def china_time(moment: datetime | None) -> str:
    """A moment on HR's wall clock."""
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if moment else ""


def page(template: str, officer: Officer, **values: object) -> web.Response:
    """A console page in the officer's language."""
    t = Translator(officer.lang)
    html = render(
        template, t, officer=officer, value=lambda f, c: value(t, f, c), when=china_time,
        benefit=lambda b: benefit_name(t.lang, b), **values,
    )  # fmt: skip
    return web.Response(text=html, content_type="text/html")


def refused(officer: Officer) -> web.Response:
    """A polite refusal page (403)."""
    response = page("console_refused.html", officer)
    response.set_status(403)
    return response


def parse_filter(query: dict[str, str]) -> wishes.WishFilter:
    """The list's filters from the query string; malformed values are ignored."""
    since = None
    try:
        if query.get("since"):
            day = date.fromisoformat(query["since"])
            since = datetime(day.year, day.month, day.day, tzinfo=CHINA).astimezone(UTC)
    except ValueError:
        since = None
    return wishes.WishFilter(
        township=query.get("township") if TOWNSHIP.match(query.get("township", "")) else None,
        village=query.get("village") if VILLAGE.match(query.get("village", "")) else None,
        kind=query.get("kind") if query.get("kind") in KINDS else None,
        status=query.get("status") if query.get("status") in STATUSES else None,
        two_after=query.get("two_after") == "1",
        since=since,
    )


class Views:
    """Overview, wishes and household pages."""

    def __init__(self, services: Services, auth: Auth) -> None:
        self.services, self.auth = services, auth

    async def overview(self, request: web.Request) -> web.Response:
        """Counts by township, kind and status, and the chart."""
        officer = await self.auth.require(request)
        prefixes = officer.prefixes("hr.summary")
        if not prefixes:
            return refused(officer)
        monday = datetime.now(CHINA).date() - timedelta(days=datetime.now(CHINA).weekday())
        week_start = datetime(monday.year, monday.month, monday.day, tzinfo=CHINA)
        async with self.services.database.session() as session:
            figures = await summary(session=session, prefixes=prefixes, week_start=week_start)
            names = await area_names(session=session, codes=set(prefixes) | set(figures.by_township))
        area = "、".join(names.get(p, p) for p in prefixes)
        return page("console_overview.html", officer, figures=figures, names=names, area=area)

    async def chart(self, request: web.Request) -> web.Response:
        """The chart of wishes by township and kind (PNG)."""
        officer = await self.auth.require(request)
        prefixes = officer.prefixes("hr.summary")
        if not prefixes:
            return refused(officer)
        t = Translator(officer.lang)
        async with self.services.database.session() as session:
            counts = await wishes.township_kind_counts(session=session, prefixes=prefixes)
            names = await area_names(session=session, codes=set(counts) | set(prefixes))
        by_township = {names.get(code, code): by_kind for code, by_kind in counts.items()}
        kinds = [(kind, value(t, "kind", kind)) for kind in KINDS]
        title = t.text("web.console.chart_title", {"area": "、".join(names.get(p, p) for p in prefixes)})
        png = draw_wishes_chart(by_township, kinds, title)
        return web.Response(body=png, content_type="image/png")

    async def wishes(self, request: web.Request) -> web.Response:
        """The filtered list, newest first, a page at a time by keyset."""
        officer = await self.auth.require(request)
        prefixes = officer.prefixes("hr.pending")
        if not prefixes:
            return refused(officer)
        wanted = parse_filter(dict(request.query))
        before = request.query.get("before", "")
        before_id = int(before) if before.isdigit() and len(before) < 12 else None
        async with self.services.database.session() as session:
            rows, next_id = await wishes.wishes_page(
                session=session, prefixes=prefixes, wanted=wanted, before_id=before_id, limit=PAGE_SIZE
            )
            codes = {row.village_code for row in rows} | {row.village_code[:9] for row in rows}
            names = await area_names(session=session, codes=codes)
        keep = {k: v for k, v in request.query.items() if k != "before" and v}
        return page(
            "console_wishes.html", officer, rows=rows, names=names, next_id=next_id, keep=keep,
            wanted=asdict(wanted), since=request.query.get("since", ""), kinds=KINDS, statuses=STATUSES,
        )  # fmt: skip

    async def household(self, request: web.Request) -> web.Response:
        """A household: members, wishes with eligibility, status history; audited."""
        officer = await self.auth.require(request)
        ident = request.match_info["household_id"]
        async with self.services.database.session() as session:
            found = await wishes.household_page(session=session, household_id=int(ident))
            counties = {row.county_code for row in found.records} if found else set()
            if found is None or not any(officer.allows("hr.pending", c) for c in counties):
                await self.auth.audit(officer, "access.refused", "household", ident, "action=web.household")
                return refused(officer)
            names = await area_names(session=session, codes={found.village_code, found.village_code[:9]})
        await self.auth.audit(officer, "web.household.view", "household", found.household_id)
        done = request.query.get("done", "")
        saved = Translator(officer.lang).text(f"web.console.done.{done}") if done in DONE else None
        results = {row.record_id: _eligibility(row.eligibility) for row in found.records}
        return page(
            "console_household.html", officer, household=found, names=names, results=results,
            statuses=FOLLOW_UP_STATUSES, saved=saved,
        )  # fmt: skip


def benefit_name(lang: str, benefit_id: str) -> str:
    """A benefit's name in the reader's language (its id when the rules no longer know it)."""
    try:
        return load_rules().benefit(benefit_id).name.get(lang)
    except (KeyError, ValueError):
        return benefit_id


def _eligibility(raw: str | None) -> list[dict]:
    """The stored eligibility result of a wish: one entry per benefit with its outcome."""
    if not raw:
        return []
    try:
        data = json.loads(raw)
    except ValueError:
        return []
    benefits = data.get("benefits", data) if isinstance(data, dict) else data
    return [item for item in benefits if isinstance(item, dict)] if isinstance(benefits, list) else []
