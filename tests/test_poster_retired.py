"""A poster of a village the official list no longer has (retired by `outreach areas import`), or of a code
never known: the household is told in its language and chooses its village; a draft under way is kept.

On the engine, on the console (`outreach chat`), on 微信客服 against the fake WeCom, and in the web chat.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest

from bot.cli.areas import areas_import
from content.book import CONTENT_DIR, load_book
from content.errors import ContentError
from content.i18n import Translator
from dialogs.areas import AreaIndex
from dialogs.engine import advance
from dialogs.model import Book, Input, Reply, State
from tests.area_support import LANKAO_CSV, NANJIAPO, ZHOUCHANG, index_rows
from tests.fakewecom import FakeWeCom
from tests.test_console import chat
from tests.test_intake_dialog import TODAY, cmd, intake_book, keys, press, text
from tests.wecom_harness import Customer, texts, wecom_bot, wecom_settings

RETIRED_ZH = "海报上的村子（葡萄架乡 南家坡村）已经不在最新的行政村名单里了"
RETIRED_EN = "The village on the poster, 南家坡村 (葡萄架乡), is no longer in the official list of villages"
KEPT_ZH = "您已经填的都还在"


@cache
def retired_book() -> Book:
    """The shipped content with 兰考县's areas, 南家坡村 retired (a later list left it out)."""
    index = AreaIndex.build([(*row, row[0] == NANJIAPO) for row in index_rows(LANKAO_CSV)])
    book = intake_book()
    return replace(book, context={**book.context, "areas": index})


def feed(state: State, *inputs: Input, book: Book | None = None) -> tuple[State, list[Reply]]:
    """Inputs to the engine (buttons with the current token); the replies to all of them."""
    out: list[Reply] = []
    for user_input in inputs:
        if user_input.kind == "choice":
            user_input = Input.choice(user_input.value, state.seq)
        state, replies = advance(book or retired_book(), state, replace(user_input, today=TODAY))
        out += [reply for reply in replies if isinstance(reply, Reply)]
    return state, out


def rendered(reply: Reply, lang: str) -> str:
    return Translator(lang).render(reply).text


# ---------------------------------------------------------------- the engine


def test_a_retired_village_is_said_on_the_first_screen_then_the_picker_goes_on_as_usual():
    state, out = feed(State(), cmd("start", f"v_{NANJIAPO}"))
    assert keys(out) == ["core.welcome", "intake.q.who"]
    place = dict(out[-1].params)["place"]
    assert place.key == "intake.poster_retired"  # not "not found, misprinted": the village was real
    assert RETIRED_ZH in rendered(out[-1], "zh_Hans") and "下面请一步步选您现在住的村" in rendered(
        out[-1], "zh_Hans"
    )
    assert RETIRED_EN in rendered(out[-1], "en")
    state, out = feed(state, press("household"))
    assert keys(out) == ["intake.q.county"] and state.answers == {"answered_by": "household"}
    state, out = feed(state, text("周场"))  # the usual picker: a name typed at the county step
    assert state.answers["village"] == ZHOUCHANG and keys(out)[-1] == "intake.q.head"
    _, out = feed(state, cmd("cancel"), press("discard"), cmd("intake"))
    assert dict(out[-1].params)["place"] == ""  # said once


def test_a_retired_village_scanned_during_an_intake_is_said_and_the_draft_is_kept():
    state, _ = feed(State(), cmd("intake"), press("household"))
    state, out = feed(state, cmd("start", f"v_{NANJIAPO}"))
    assert keys(out) == ["intake.poster_retired_draft", "core.resume"]
    assert RETIRED_ZH in rendered(out[0], "zh_Hans") and KEPT_ZH in rendered(out[0], "zh_Hans")
    assert RETIRED_EN in rendered(out[0], "en") and "What you entered so far is kept" in rendered(
        out[0], "en"
    )
    continued, out = feed(state, press("continue"))
    assert keys(out) == ["intake.q.county"] and continued.answers == {"answered_by": "household"}
    _, out = feed(state, press("restart"))
    assert keys(out) == ["intake.q.who"] and dict(out[-1].params)["place"] == ""  # not said twice


def test_an_unknown_code_scanned_during_an_intake_is_said_too():
    state, _ = feed(State(), cmd("intake"), press("household"))
    _, out = feed(state, cmd("start", "v_999999999999"))
    assert keys(out) == ["intake.poster_unknown_draft", "core.resume"]
    assert "v_999999999999" in rendered(out[0], "zh_Hans") and KEPT_ZH in rendered(out[0], "zh_Hans")


def test_nothing_is_said_when_the_draft_has_its_village_or_the_poster_is_fine():
    state, _ = feed(State(), cmd("intake"), press("household"), text("周场"))
    assert state.answers["village"] == ZHOUCHANG
    after, out = feed(state, cmd("start", f"v_{NANJIAPO}"))
    assert keys(out) == ["core.resume"]  # the village chosen stands, whatever the poster
    _, out = feed(after, press("continue"))
    assert keys(out) == ["intake.q.head"]
    state, _ = feed(State(), cmd("intake"), press("household"))
    _, out = feed(state, cmd("start", f"v_{ZHOUCHANG}"))  # an offered village
    assert keys(out) == ["core.resume"]
    _, out = feed(State(), cmd("start", f"v_{NANJIAPO}"), book=intake_book())  # not retired there
    assert dict(out[-1].params)["place"].key == "intake.poster_place"


def test_a_flow_naming_an_unknown_link_notice_is_refused_at_load(tmp_path):
    for part in ("flows", "policy"):
        shutil.copytree(CONTENT_DIR / part, tmp_path / part)
    flow = tmp_path / "flows" / "intake.yaml"
    yaml_text = flow.read_text(encoding="utf-8")
    flow.write_text(yaml_text.replace("intake_link_notice", "nope"), encoding="utf-8")
    with pytest.raises(ContentError, match="link_notice: unknown name 'nope'"):
        load_book(tmp_path)


# ---------------------------------------------------------------- after a real `outreach areas import`


def retire_nanjiapo(db_url: str, tmp_path: Path) -> None:
    """Import 兰考县's list, then a later one without 南家坡村, as an operator would."""
    assert areas_import(db_url, LANKAO_CSV) == 0
    later = tmp_path / "later.csv"
    lines = LANKAO_CSV.read_text(encoding="utf-8").splitlines()
    later.write_text("\n".join(line for line in lines if not line.startswith(f"{NANJIAPO},")) + "\n", "utf-8")
    assert areas_import(db_url, later) == 0


def test_the_console_says_it(tmp_path):
    retire_nanjiapo(f"sqlite:///{tmp_path / 'outreach.sqlite3'}", tmp_path)
    result = chat(tmp_path, f"/start v_{NANJIAPO}\n2\n/quit\n")
    assert result.returncode == 0, result.stderr
    assert RETIRED_ZH in result.stdout and "哪个县" in result.stdout


async def test_wechat_kf_says_it_on_the_welcome_and_during_an_intake(tmp_path, bot_database_url):
    async with FakeWeCom() as fake:
        settings = wecom_settings(fake, tmp_path, bot_database_url)
        await asyncio.to_thread(retire_nanjiapo, settings.db_url, tmp_path)
        async with wecom_bot(fake, settings) as channel:
            family = Customer(fake, channel, "wmRetired01")
            (welcome,) = await family.enters(f"v_{NANJIAPO}")
            assert RETIRED_ZH in welcome.text and "谁在填" in welcome.text
            (county,) = await family.press("household")
            assert "哪个县" in county.text
            again = await family.enters(f"v_{NANJIAPO}")  # the poster scanned again, mid-way
            assert RETIRED_ZH in texts(again) and KEPT_ZH in texts(again)
            (county,) = await family.press("continue")
            assert "哪个县" in county.text


async def test_the_web_chat_says_it_in_a_real_browser(tmp_path):
    from tests.web_support import PHONE, browser, web_server, web_settings

    settings = web_settings(tmp_path, f"sqlite:///{tmp_path / 'outreach.sqlite3'}")
    await asyncio.to_thread(retire_nanjiapo, settings.db_url, tmp_path)
    async with web_server(settings) as server, browser() as chromium:
        context = await chromium.new_context(viewport=PHONE, locale="zh-CN")
        page = await context.new_page()
        await page.goto(f"{server.url}/c/?v={NANJIAPO}")
        assert NANJIAPO not in page.url  # the code still leaves the address
        shown = await page.locator(".msg.bot").all_inner_texts()
        assert any(RETIRED_ZH in message for message in shown)
        await context.close()
