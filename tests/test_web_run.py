"""`outreach run` without channel settings: the web pages on 127.0.0.1, both URLs and a local admin link."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import aiohttp

from tests.test_cli import OUTREACH, outreach
from tests.web_support import WEB_KEY


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_run(tmp_path: Path, port: int) -> tuple[subprocess.Popen[str], list[str]]:
    """`outreach run` in the background until it has printed its three lines."""
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL", "TELEGRAM_API_URL"}}
    env.update(DATA_DIR=str(tmp_path), WEB_PORT=str(port), DATA_KEY=WEB_KEY)
    process = subprocess.Popen(
        [str(OUTREACH), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while len(lines) < 3 and time.monotonic() < deadline:
        line = process.stdout.readline() if process.stdout else ""
        if not line:
            break
        lines.append(line.strip())
    return process, lines


async def test_make_run_serves_chat_and_console_with_a_local_admin_link(tmp_path):
    port = free_port()
    process, lines = start_run(tmp_path, port)
    try:
        assert lines[:2] == [
            f"web chat:   http://127.0.0.1:{port}/c/",
            f"HR console: http://127.0.0.1:{port}/console/",
        ]
        link = re.search(r"(http://\S+/console/sign-in\?t=\S+)", lines[2]).group(1)
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(
            cookie_jar=jar, headers={"Origin": f"http://127.0.0.1:{port}"}
        ) as http:
            chat = await http.get(f"http://127.0.0.1:{port}/c/")
            assert chat.status == 200 and "您想做什么" in await chat.text()
            secret = link.rpartition("t=")[2]
            console = await http.post(f"http://127.0.0.1:{port}/console/sign-in", data={"t": secret})
            assert console.status == 200 and "/console/admin/audit" in await console.text()
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert "Traceback" not in err
    assert secret not in err  # the access log has no query strings


def test_web_link_is_for_staff_only(tmp_path):
    refused = outreach(tmp_path, "web", "link", "--as", "tg:5", DATA_KEY=WEB_KEY)
    assert refused.returncode == 3 and refused.stderr.count("\n") == 1 and "tg:5" in refused.stderr
    outreach(tmp_path, "admin", "add", "--telegram-id", "5", DATA_KEY=WEB_KEY)
    made = outreach(tmp_path, "web", "link", "--as", "tg:5", DATA_KEY=WEB_KEY)
    assert made.returncode == 0, made.stderr
    assert re.fullmatch(r"http://127\.0\.0\.1:8090/console/sign-in\?t=[\w-]{43}\n", made.stdout)


def test_poster_links_to_the_web_chat_with_the_village(tmp_path):
    from bot.features.poster import PosterError, village_link

    link = village_link("web", "410225203204", {"web_url": "https://outreach.example.cn/"})
    assert link == "https://outreach.example.cn/c/?v=410225203204"
    try:
        village_link("web", "410225203204", {"web_url": None})
    except PosterError as exc:
        assert "WEB_BASE_URL" in str(exc)
    else:
        raise AssertionError("a poster needs the public address")
    result = outreach(
        tmp_path, "poster", "--village", "410225203204", "--channel", "web", "--out", str(tmp_path / "p.pdf")
    )
    assert result.returncode == 2 and "WEB_BASE_URL" in result.stderr and result.stderr.count("\n") == 1


async def _serving(settings, *, webhook: bool = False):
    """`outreach run`'s serve() in a task, once it is ready; the task and what it printed."""
    import asyncio
    import io

    from bot.cli.run import serve

    ready, out = asyncio.Event(), io.StringIO()
    task = asyncio.create_task(serve(settings, webhook=webhook, ready=ready, out=out))
    done, _ = await asyncio.wait(
        {task, asyncio.create_task(ready.wait())}, timeout=30, return_when=asyncio.FIRST_COMPLETED
    )
    if task in done:
        task.result()
    return task, out.getvalue()


async def _stop(task) -> None:
    """Cancel serve() and wait for it to close everything."""
    import asyncio
    import contextlib

    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_one_process_serves_telegram_polling_and_the_web_chat(tmp_path):
    from bot.core.settings import load_settings
    from tests.fakebot import FakeBotAPI
    from tests.telegram_harness import say

    async with FakeBotAPI() as fake:
        port = free_port()
        settings = load_settings(
            bot_token=fake.token, telegram_api_url=fake.base_url, data_dir=tmp_path, web_port=port,
            data_key=WEB_KEY,
        )  # fmt: skip
        task, printed = await _serving(settings)
        try:
            assert (
                f"web chat:   http://127.0.0.1:{port}/c/" in printed and "sign-in" not in printed
            )  # no local admin
            welcome, _ = await say(fake, 4343, "/start", expect=2)
            assert "政策小助手" in welcome.text
            async with aiohttp.ClientSession() as http:  # keeps no cookie for an IP address: no loop either
                page = await http.get(f"http://127.0.0.1:{port}/c/")
                assert page.status == 200 and "您想做什么" in await page.text()
        finally:
            await _stop(task)


SECRET = "s3cret-token-for-the-webhook-42"  # strong enough for the settings check


async def test_telegram_webhook_on_the_shared_application(tmp_path):
    from bot.core.settings import load_settings
    from tests.fakebot import FakeBotAPI
    from tests.test_webhook import start_update

    async with FakeBotAPI() as fake:
        fake.add_chat(5151, first_name="李强")
        port = free_port()
        settings = load_settings(
            bot_token=fake.token, telegram_api_url=fake.base_url, data_dir=tmp_path, web_port=port,
            webhook_port=port, webhook_url="https://bot.example.org", webhook_secret=SECRET,
            data_key=WEB_KEY,
        )  # fmt: skip
        task, _ = await _serving(settings, webhook=True)
        try:
            async with aiohttp.ClientSession() as http:
                for _ in range(50):  # the webhook is set by a task once Telegram answers
                    if fake.webhook["url"]:
                        break
                    await asyncio_sleep(0.1)
                assert fake.webhook["url"] == "https://bot.example.org/telegram/webhook"
                url = f"http://127.0.0.1:{port}/telegram/webhook"
                for update_id, secret, status in ((1, "x", 401), (2, SECRET, 200)):
                    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
                    answer = await http.post(url, json=start_update(update_id), headers=headers)
                    assert answer.status == status, secret
                chat = await http.get(f"http://127.0.0.1:{port}/c/")
                assert chat.status == 200
            welcome, _ = await fake.wait_for_messages(5151, 2)
            assert "政策小助手" in welcome.text
        finally:
            await _stop(task)


async def asyncio_sleep(seconds: float) -> None:
    """A short wait (kept apart so the test reads plainly)."""
    import asyncio

    await asyncio.sleep(seconds)


async def test_cookies_are_secure_behind_https(tmp_path):
    from tests import hr_support as hr
    from tests.web_support import seed_counties, sign_in_link_for, web_server, web_settings

    async with web_server(web_settings(tmp_path, web_base_url="https://outreach.example.cn")) as server:
        await seed_counties(server.services, households=1)
        link = await sign_in_link_for(server.services, server.settings, f"tg:{hr.HR_A}")
        assert link.startswith("https://outreach.example.cn/console/sign-in?t=")
        async with aiohttp.ClientSession(headers={"Origin": server.url}) as http:
            chat = await http.get(server.url + "/c/")
            cookie = chat.headers["Set-Cookie"]
            assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
            signed = await http.post(
                server.url + "/console/sign-in", data={"t": link.rpartition("t=")[2]}, allow_redirects=False
            )
            cookie = signed.headers["Set-Cookie"]
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" in cookie


async def test_a_press_without_its_token_is_stale(tmp_path):
    from tests.web_support import web_server, web_settings

    async with web_server(web_settings(tmp_path)) as server:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar, headers={"Origin": server.url}) as http:
            await http.get(server.url + "/c/")
            page = await (await http.post(server.url + "/c/", data={"choice": "explain"})).text()
            assert "已经过期了" in page and "您想了解哪方面" not in page
            cross = await http.post(
                server.url + "/c/", data={"choice": "explain"}, headers={"Origin": "https://x.cn"}
            )
            assert cross.status == 403  # a form posted from another site
