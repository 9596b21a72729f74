"""The county HR console in a real browser: sign-in links, sessions, CSRF, scopes, pages, downloads."""

from __future__ import annotations

import csv
import io
import logging
import subprocess
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from storage.repositories import audit
from storage.repositories import web as web_repo
from tests import hr_support as hr
from tests.db_fixtures import MIGRATED_BACKENDS
from tests.web_support import (
    browser,
    has_soffice,
    screenshot,
    seed_counties,
    sign_in_link_for,
    web_server,
    web_settings,
)

DESK = {"width": 1280, "height": 900}


def local(server, link: str) -> str:
    """A link as the test server serves it (the settings' default port is not the test's)."""
    return link.replace(server.settings.web_url, server.url)


async def signed_in_page(server, chromium, key: str):
    """A browser page signed in to the console as `key`."""
    context = await chromium.new_context(viewport=DESK, locale="zh-CN", accept_downloads=True)
    page = await context.new_page()
    await page.goto(local(server, await sign_in_link_for(server.services, server.settings, key)))
    await page.locator("form[action='/console/sign-in'] button").click()
    await page.wait_for_url("**/console/")
    return context, page


async def entries(server, action: str) -> list:
    """Audit entries of one action."""
    async with server.services.database.session() as session:
        return [e for e in await audit.entries(session=session) if e.action == action]


@pytest.mark.parametrize("database_url", MIGRATED_BACKENDS)
async def test_sign_in_overview_filters_household_and_sign_out(tmp_path, database_url, request):
    url = request.getfixturevalue(database_url)
    async with web_server(web_settings(tmp_path, url)) as server, browser() as chromium:
        made = await seed_counties(server.services)
        context, page = await signed_in_page(server, chromium, f"tg:{hr.HR_A}")
        cookie = next(c for c in await context.cookies() if c["name"] == "outreach_console")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        body = await page.inner_text("main")
        assert "兰考县" in body and "杞县" not in body  # county A only
        assert await page.locator("img.chart").evaluate("img => img.naturalWidth") > 100
        await screenshot(page, "console-overview")
        await page.goto(server.url + "/console/wishes")
        assert await page.locator("tbody tr").count() == 3
        assert "****" in await page.inner_text("tbody")  # masked numbers
        await page.select_option("#f-status", "contacted")
        await page.locator("form.filters button").click()
        assert "status=contacted" in page.url
        assert await page.locator("tbody tr").count() == 0
        await page.goto(server.url + "/console/wishes?two_after=1&kind=technical_school")
        assert await page.locator("tbody tr").count() == 3
        await screenshot(page, "console-wishes")
        await page.locator("tbody tr a").first.click()
        assert "/console/households/" in page.url
        text = await page.inner_text("main")
        assert "张2强" in text and "两后生" in text and "能享受" in text
        await screenshot(page, "console-household")
        assert len(await entries(server, "web.household.view")) == 1
        # Sign out: the cookie no longer opens anything.
        await page.locator("form[action='/console/sign-out'] button").click()
        await page.wait_for_url("**/console/signed-out")
        await page.goto(server.url + "/console/wishes")
        assert page.url.endswith("/console/signed-out")
        assert made[hr.COUNTY_A]
        await context.close()


async def test_sign_in_links_are_single_use_expire_and_need_a_role(tmp_path):
    async with web_server(web_settings(tmp_path)) as server:
        await seed_counties(server.services, households=1)
        link = local(server, await sign_in_link_for(server.services, server.settings, f"tg:{hr.HR_A}"))
        secret = link.rpartition("t=")[2]
        async with aiohttp.ClientSession(headers={"Origin": server.url}) as http:
            preview = await http.get(link)  # a chat app's link preview: spends nothing
            assert preview.status == 200
            first = await http.post(
                server.url + "/console/sign-in", data={"t": secret}, allow_redirects=False
            )
            assert first.status == 303 and "outreach_console" in first.cookies
        async with aiohttp.ClientSession(headers={"Origin": server.url}) as http:
            again = await http.post(
                server.url + "/console/sign-in", data={"t": secret}, allow_redirects=False
            )
            assert again.status == 403
        # An expired link.
        async with server.services.database.session() as session:
            old = await web_repo.create_link(
                session=session, user_key=f"tg:{hr.HR_A}", valid=timedelta(minutes=15),
                now=datetime.now(UTC) - timedelta(minutes=16),
            )  # fmt: skip
            stored = await web_repo.load_page(session=session, key="web:none")
        assert stored is None
        async with aiohttp.ClientSession(headers={"Origin": server.url}) as http:
            expired = await http.post(server.url + "/console/sign-in", data={"t": old}, allow_redirects=False)
            assert expired.status == 403
        # Nobody without an HR or admin role gets a link.
        from bot.features.sign_in import sign_in_link

        async with server.services.database.session() as session:
            none = await sign_in_link(
                session=session, user_key=f"tg:{hr.STRANGER}", settings=server.settings, now=datetime.now(UTC)
            )
        assert none is None


async def test_csrf_scope_and_idle_refusals(tmp_path):
    async with web_server(web_settings(tmp_path, web_idle_minutes=1)) as server:
        made = await seed_counties(server.services, households=1)
        link = local(server, await sign_in_link_for(server.services, server.settings, f"tg:{hr.HR_B}"))
        jar = aiohttp.CookieJar(unsafe=True)  # 127.0.0.1 is an IP address
        async with aiohttp.ClientSession(headers={"Origin": server.url}, cookie_jar=jar) as http:
            signed = await http.post(
                server.url + "/console/sign-in", data={"t": link.rpartition("t=")[2]}, allow_redirects=False
            )
            assert signed.status == 303
            # County B's officer cannot open county A's household...
            other = await http.get(f"{server.url}/console/households/{made[hr.COUNTY_A][0]}")
            assert other.status == 403
            # ...nor post a status without the form's CSRF token...
            async with server.services.database.session() as session:
                from storage.repositories.web_wishes import household_page

                page = await household_page(session=session, household_id=made[hr.COUNTY_B][0])
            record = page.records[0].record_id
            forged = await http.post(
                f"{server.url}/console/records/{record}/status", data={"status": "contacted"}
            )
            assert forged.status == 403
            # ...and a form from another site is refused before anything else.
            cross = await http.post(
                f"{server.url}/console/records/{record}/status",
                data={"status": "contacted"},
                headers={"Origin": "https://evil.example"},
            )
            assert cross.status == 403
        refused = await entries(server, "access.refused")
        assert {e.target_kind for e in refused} >= {"household", "form"}
        # An idle session is over.
        async with server.services.database.session() as session:
            from sqlalchemy import update

            from storage.models_web import WebSession

            await session.exec(update(WebSession).values(last_seen_at=0.0))
            await session.commit()
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            idle = await http.get(server.url + "/console/wishes", allow_redirects=False)
            assert idle.status == 303 and idle.headers["Location"] == "/console/signed-out"


async def test_downloads_open_and_are_audited(tmp_path):
    async with web_server(web_settings(tmp_path)) as server, browser() as chromium:
        await seed_counties(server.services)
        context, page = await signed_in_page(server, chromium, f"tg:{hr.HR_A}")
        await page.goto(server.url + "/console/downloads")
        await screenshot(page, "console-downloads")
        async with page.expect_download() as waiting:
            await page.locator("form[action='/console/downloads/export.csv'] button").click()
        csv_path = tmp_path / "wishes.csv"
        await (await waiting.value).save_as(csv_path)
        rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))))
        assert len(rows) == 4 and {row[1] for row in rows[1:]} == {"兰考县"}  # county A's records only
        assert all("****" in "".join(row) for row in rows[1:])  # numbers masked
        async with page.expect_download() as waiting:
            await page.locator("form[action='/console/downloads/export.xlsx'] button").click()
        xlsx_path = tmp_path / "wishes.xlsx"
        await (await waiting.value).save_as(xlsx_path)
        async with page.expect_download() as waiting:
            await page.locator("form[action='/console/downloads/progress.xlsx'] button").click()
        await (await waiting.value).save_as(tmp_path / "progress.xlsx")
        await context.close()
        exports = await entries(server, "hr.export")
        assert [e.detail.split()[1] for e in exports] == ["format=csv", "format=xlsx"]
        assert len(await entries(server, "hr.progress")) == 1
    soffice = has_soffice()
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: the XLSX was not opened")
    utf8_csv = "csv:Text - txt - csv (StarCalc):44,34,76"  # comma, double quote, UTF-8
    subprocess.run(
        [soffice, "--headless", "--convert-to", utf8_csv, "--outdir", str(tmp_path / "lo"), str(xlsx_path)],
        check=True, capture_output=True, timeout=120, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    converted = (tmp_path / "lo" / "wishes.csv").read_text(encoding="utf-8", errors="replace")
    assert converted.count("\n") >= 4 and "张0红" in converted


async def test_admin_pages_and_no_personal_data_in_urls_or_logs(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    # aiosqlite logs every statement with its parameters at DEBUG: a driver's trace, off at LOG_LEVEL=INFO.
    caplog.set_level(logging.INFO, logger="aiosqlite")
    async with web_server(web_settings(tmp_path)) as server, browser() as chromium:
        await seed_counties(server.services)
        caplog.clear()  # from here on: only what serving the pages logs
        context, page = await signed_in_page(server, chromium, f"tg:{hr.ADMIN}")
        urls: list[str] = []
        page.on("request", lambda req: urls.append(req.url))
        await page.goto(server.url + "/console/wishes")
        await page.locator("tbody tr a").first.click()
        for path, name in (
            ("/console/admin/destinations", "console-destinations"),
            ("/console/admin/people", "console-people"),
            ("/console/admin/invitations", "console-invitations"),
        ):
            await page.goto(server.url + path)
            assert (await page.title()).strip()
            await screenshot(page, name)
        await page.fill("#i-area", hr.VILLAGE_A)
        await page.select_option("#i-role", "worker")
        await page.locator("form[action='/console/admin/invitations'] button").click()
        assert "/start i_" in await page.inner_text("main")
        await page.goto(server.url + "/console/admin/audit")
        assert "web.household.view" in await page.inner_text("main")
        await screenshot(page, "console-audit")
        await context.close()
    personal = ["张0强", "张1红", "13800000100", hr.resident_id(hr.COUNTY_A, "19810301", "100")]
    logged = caplog.text
    assert "GET /console/sign-in 200" in logged and "t=" not in logged  # the access log, without secrets
    for value in personal:
        assert value not in logged
        assert not any(value in u for u in urls)


async def test_a_status_change_reaches_the_household_in_its_web_chat_once(tmp_path):
    from tests.golden_runner import GOLDEN_DIR, load
    from tests.test_web_chat import PHONE, _play_turn

    async with web_server(web_settings(tmp_path)) as server, browser() as chromium:
        await seed_counties(server.services, households=1)
        family = await chromium.new_context(viewport=PHONE, locale="en-US", java_script_enabled=False)
        chat = await family.new_page()
        await chat.goto(server.url + "/c/")
        for turn in load(GOLDEN_DIR / "intake_household_poster.yaml")["turns"]:
            if "other" not in turn:
                await _play_turn(chat, turn)
        assert "/c/" in chat.url
        # The county's HR officer finds the family's wish (the newest) and sets a status with a note.
        context, page = await signed_in_page(server, chromium, f"tg:{hr.HR_A}")
        await page.goto(server.url + "/console/wishes")
        await page.locator("tbody tr a").first.click()
        form = page.locator("section.card form").first
        await form.locator("select").select_option("contacted")
        await form.locator("input[name=note]").fill("电话 13912345678 已打通")
        await form.locator("button").click()
        assert "done=changed" in page.url
        text = await page.inner_text("main")
        assert "5678 已打通" in text and "13912345678" not in text  # the note's number masked
        await screenshot(page, "console-follow-up")
        # The same status again changes nothing and tells nobody twice.
        form = page.locator("section.card form").first
        await form.locator("select").select_option("contacted")
        await form.locator("button").click()
        assert "done=unchanged" in page.url
        await context.close()
        await chat.reload()
        notices = [
            t
            for t in await chat.locator(".msg.bot .text").all_inner_texts()
            if "has started to follow up your wish" in t
        ]
        assert len(notices) == 1, notices
        await screenshot(chat, "web-chat-follow-up-notice")
        await family.close()
        assert len(await entries(server, "hr.set_status")) == 1


async def test_web_command_sends_a_link_in_a_private_chat_only(tmp_path, monkeypatch):
    from tests.fakebot import FakeBotAPI

    async with web_server(web_settings(tmp_path)) as server, FakeBotAPI() as fake:
        await seed_counties(server.services, households=1)
        monkeypatch.setenv("WEB_BASE_URL", server.url)  # the process's settings, as /web reads them
        bot = fake.make_bot()
        try:
            db = server.services.database
            assert await hr.send(fake, bot, db, hr.HR_A, "/web", hr.GROUP_A)  # a group: no link there
            assert "/console/sign-in" not in fake.last_message(hr.GROUP_A).text
            assert await hr.send(fake, bot, db, hr.STRANGER, "/web")
            assert "只供县人社局" in fake.last_message(hr.STRANGER).text
            assert await hr.send(fake, bot, db, hr.HR_A, "/web")
            link = next(w for w in fake.last_message(hr.HR_A).text.split() if "/console/sign-in?t=" in w)
            async with aiohttp.ClientSession(headers={"Origin": server.url}) as http:
                first = await http.post(
                    server.url + "/console/sign-in",
                    data={"t": link.rpartition("t=")[2]},
                    allow_redirects=False,
                )
                assert first.status == 303
        finally:
            await bot.session.close()
        assert [e.actor for e in await entries(server, "web.link")] == [f"tg:{hr.HR_A}"]
