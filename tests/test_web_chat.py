"""The web chat in a real browser (Chromium at phone size): golden dialogs, resume, bad input, headers."""

from __future__ import annotations

import re
from dataclasses import replace as dc_replace
from datetime import date

import pytest
from playwright.async_api import expect

from content.i18n import Translator
from dialogs.engine import advance
from dialogs.model import Reply, State
from tests.db_fixtures import MIGRATED_BACKENDS
from tests.golden_runner import GOLDEN_DIR, load, to_input
from tests.web_support import PHONE, browser, screenshot, web_server, web_settings

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


async def press(page, label: str) -> None:
    """Press the choice button with this label."""
    await page.locator("form.choices button", has_text=label).first.click()
    await page.wait_for_load_state()


async def say(page, text: str) -> None:
    """Type a text and send it."""
    await page.fill("#text", text)
    await page.locator("form.say button").click()
    await page.wait_for_load_state()


async def last_bot(page) -> str:
    """The newest message of the bot."""
    return await page.locator(".msg.bot").last.inner_text()


async def test_explainer_at_phone_size_and_resume_after_reload(tmp_path):
    async with web_server(web_settings(tmp_path)) as server, browser() as chromium:
        context = await chromium.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
        page = await context.new_page()
        await page.goto(server.url + "/c/")
        assert await page.locator("html").get_attribute("lang") == "zh-Hans"
        assert "您想做什么" in await last_bot(page)
        await screenshot(page, "web-chat-menu")
        await press(page, "了解政策")
        await press(page, "学费和助学金")
        text = await last_bot(page)
        assert "1,700元" in text and "豫人社〔2017〕57号 四（一）" in text
        # No horizontal scrolling at 360 px.
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await screenshot(page, "web-chat-answer")
        # A reload, and a new tab with the same cookie a day later, continue where it was.
        await page.reload()
        assert "1,700元" in await last_bot(page)
        later = await context.new_page()
        await later.goto(server.url + "/c/")
        assert "1,700元" in await last_bot(later)
        await press(later, "雨露计划")
        assert "雨露计划" in await later.locator(".msg.me").last.inner_text()
        await context.close()


async def test_stale_button_and_bad_inputs_keep_the_step(tmp_path):
    async with web_server(web_settings(tmp_path)) as server, browser() as chromium:
        context = await chromium.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
        page = await context.new_page()
        await page.goto(server.url + "/c/")
        old = await context.new_page()
        await old.goto(server.url + "/c/")  # the same menu, in a second tab
        await press(page, "了解政策")
        await press(old, "我能享受什么")  # a button of an earlier screen: harmless
        assert "已经过期了" in await old.locator(".msg.notice").last.inner_text()
        assert "您想了解哪方面" in await last_bot(old)  # and the open question is asked again
        await say(page, "字" * 2500)  # cut to 2000 by the page, still too long for the engine
        assert "这段话太长了" in await page.locator(
            ".msg.notice, .msg.bot"
        ).last.inner_text() or "这段话太长了" in (await page.content())
        await say(page, "/nonsense")
        assert "这个命令我不认识" in await page.content()
        await context.close()


@pytest.mark.parametrize("database_url", MIGRATED_BACKENDS)
async def test_poster_link_opens_intake_with_the_village_and_submits(tmp_path, database_url, request):
    url = request.getfixturevalue(database_url)
    async with web_server(web_settings(tmp_path, url)) as server, browser() as chromium:
        context = await chromium.new_context(viewport=PHONE, locale="en-US")
        page = await context.new_page()  # with the optional script
        await page.goto(server.url + "/c/?v=410225203204")
        assert page.url.endswith("/c/#latest")  # the village code does not stay in the address
        assert await page.locator("html").get_attribute("lang") == "en"
        assert "Who is filling" in await page.content() or await page.locator("form.choices").count() == 1
        cookies = await context.cookies()
        chat_cookie = next(c for c in cookies if c["name"] == "outreach_chat")
        assert chat_cookie["httpOnly"] and chat_cookie["sameSite"] == "Lax"
        assert not re.search(chat_cookie["value"], page.url)
        await screenshot(page, "web-chat-intake")
        await context.close()


async def test_language_switch_and_headers(tmp_path):
    async with web_server(web_settings(tmp_path)) as server, browser() as chromium:
        context = await chromium.new_context(viewport=PHONE, locale="zh-CN")
        page = await context.new_page()
        response = await page.goto(server.url + "/c/")
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "unsafe-inline" not in headers["content-security-policy"]
        await page.locator("form.langs button[value=en]").click()
        await expect(page.locator("html")).to_have_attribute("lang", "en")  # the script swapped the page
        assert "What would you like to do?" in await page.content()
        html = await page.content()
        assert "<script>" not in html  # no inline script
        await context.close()


# ---------------------------------------------------------------- golden transcripts in the browser

GOLDEN = ["core_navigation.yaml", "check_student_all_three.yaml", "intake_household_poster.yaml"]


async def _bot_texts_since_my_last(page) -> list[str]:
    """The bot's messages shown after the person's newest message."""
    texts = await page.locator(".msg").evaluate_all(
        "items => items.map(i => [i.classList.contains('me'), i.querySelector('.text').textContent])"
    )
    newest_mine = max((i for i, (mine, _) in enumerate(texts) if mine), default=-1)
    return [text for _, text in texts[newest_mine + 1 :]]


async def _play_turn(page, turn: dict) -> None:
    """One golden turn through the web page: a button by its id, or typed text/command."""
    if "press" in turn:
        await page.locator(f"form.choices button[value='{turn['press']}']").click()
    else:
        await page.fill("#text", str(turn.get("send", turn.get("text", ""))))
        await page.locator("form.say button").click()
    await page.wait_for_load_state()


@pytest.mark.parametrize("name", GOLDEN)
async def test_golden_transcripts_in_the_web_chat(tmp_path, name):
    transcript = load(GOLDEN_DIR / name)
    lang = transcript.get("lang", "zh_Hans")
    async with web_server(web_settings(tmp_path)) as server, browser() as chromium:
        book = server.services.book  # with the area index, as the bot has it
        locale = "en-US" if lang == "en" else "zh-CN"
        context = await chromium.new_context(viewport=PHONE, locale=locale, java_script_enabled=False)
        page = await context.new_page()
        await page.goto(server.url + "/c/")
        state, shown = State(lang=lang), []
        today = date.today().isoformat()
        state, _ = advance(book, state, dc_replace(to_input({"send": "/start"}, []), today=today))
        for turn in transcript["turns"]:
            if "other" in turn:  # a photo or sticker: a web page cannot send one
                continue
            user_input = dc_replace(to_input(turn, shown), today=today)
            state, replies = advance(book, state, user_input)
            shown = [r for r in replies if isinstance(r, Reply)]
            await _play_turn(page, turn)
            on_page = await _bot_texts_since_my_last(page)
            wanted = [Translator(state.lang).render(r).text for r in shown]
            assert [r.key for r in shown] == list(turn["expect"])
            remaining = iter(on_page)
            assert all(any(text == seen for seen in remaining) for text in wanted), (turn, wanted, on_page)
        await screenshot(page, f"web-golden-{name.removesuffix('.yaml')}")
        await context.close()
