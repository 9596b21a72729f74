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
