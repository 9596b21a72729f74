"""`outreach deliver`: every configured digest channel (Telegram, the WeCom app), or a one-line error."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from bot.cli.delivery import deliver, hr_add, operator
from bot.core.services import open_services
from bot.core.settings import load_settings
from storage.db import Database
from storage.repositories import audit
from tests.fakewecom import FakeWeCom
from tests.hr_support import COUNTY_A, VILLAGE_A, submission, submit
from tests.wecom_harness import wecom_settings

APP_SETTINGS = ("wecom_corp_id", "wecom_agent_id", "wecom_app_secret", "wecom_callback_token",
                "wecom_callback_aes_key", "wecom_api_url")  # fmt: skip
# `outreach deliver --once` as the console script runs it, then whether aiogram was ever imported.
DELIVER_ONCE = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('aiogram imported:', 'aiogram' in sys.modules, file=sys.stderr))\n"
    "sys.argv = ['outreach', 'deliver', '--once']\n"
    "from bot.cli.main import main\n"
    "main()\n"
)


def _ours(name: str) -> bool:
    """A channel, database or digest setting (left out of the environment of these tests)."""
    return name.startswith(("WECOM_", "DIGEST_")) or name in {"BOT_TOKEN", "DATABASE_URL", "TELEGRAM_API_URL"}


def clean_environ(tmp_path: Path, **env: str) -> dict[str, str]:
    """The test's environment without any channel or database setting, rooted in tmp_path."""
    base = {name: value for name, value in os.environ.items() if not _ours(name)}
    return {**base, "DATA_DIR": str(tmp_path), **env}


@pytest.fixture
def no_channel_env(tmp_path, monkeypatch) -> None:
    """No channel setting in this process's environment, and no .env file read."""
    for name in [name for name in os.environ if _ours(name)]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_without_any_channel_it_is_one_line_and_exit_2(tmp_path, no_channel_env, capsys):
    settings = load_settings(data_dir=tmp_path)
    assert deliver(settings, f"sqlite:///{tmp_path}/x.sqlite3", once=True) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("error: setting BOT_TOKEN or WECOM_*: needed to deliver digests")
    assert not (tmp_path / "x.sqlite3").exists()  # refused before the database is touched


def test_a_partial_wecom_app_is_one_line_naming_the_missing_setting(tmp_path, no_channel_env, capsys):
    settings = load_settings(data_dir=tmp_path, wecom_agent_id=1000002, wecom_app_secret="s" * 43)
    assert deliver(settings, f"sqlite:///{tmp_path}/x.sqlite3", once=True) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: setting WECOM_CORP_ID:")


async def test_deliver_once_with_only_wecom_sends_to_a_member_and_a_group_without_aiogram(
    tmp_path, bot_database_url
):
    async with FakeWeCom() as fake:
        fake.group_chats.add("lankaohr")
        settings = wecom_settings(fake, tmp_path, bot_database_url)
        services = await open_services(settings)  # migrates and seeds the areas
        try:
            for serial in (1, 3):
                await submit(services.database, services.cipher,
                             submission(VILLAGE_A, "王建国", "王小明", serial))  # fmt: skip
        finally:
            await services.close()
        for chat in ("wecom:hr_lankao", "wecom:group:lankaohr"):
            assert await asyncio.to_thread(hr_add, settings.db_url, COUNTY_A, chat) == 0
        env = {name.upper(): str(value) for name, value in fake.settings().items() if name in APP_SETTINGS}
        env |= {"DIGEST_MIN_RECORDS": "1"} | ({"DATABASE_URL": bot_database_url} if bot_database_url else {})
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", DELIVER_ONCE, env=clean_environ(tmp_path, **env), cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), 120)
        assert process.returncode == 0, err.decode()
        assert "aiogram imported: False" in err.decode()
        for to in ("hr_lankao", "group:lankaohr"):
            digest = [m.text for m in fake.messages_to(to) if m.msgtype == "text" and "兰考县" in m.text]
            assert len(digest) == 1 and "本次新登记 2 条" in digest[0], to
            assert "4102*************" in digest[0] and "13800000001" not in digest[0]
            assert {m.msgtype for m in fake.messages_to(to)} >= {"file", "image"}
        assert "王建国" not in err.decode() + out.decode()  # nothing personal on the console
    database = Database.from_url(settings.db_url)
    try:
        async with database.session() as session:
            entries = await audit.entries(session=session, actor=operator())
    finally:
        await database.dispose()
    assert [(e.action, e.detail) for e in entries] == [
        ("hr.destinations", f"add county={COUNTY_A} channel=wecom")
    ] * 2


@pytest.mark.parametrize("once", [True, False])
def test_deliver_opens_and_closes_every_configured_channel(tmp_path, monkeypatch, no_channel_env, once):
    """Telegram and WeCom side by side; both connections closed when the worker returns."""
    from bot.cli import delivery

    seen: dict[str, object] = {}

    async def fake_drain(settings, channels):
        seen["channels"] = channels

    async def fake_run(settings, channels, *, stop):
        seen["channels"] = channels

    monkeypatch.setattr("bot.features.delivery.worker.drain_delivery", fake_drain)
    monkeypatch.setattr("bot.features.delivery.worker.run_delivery", fake_run)
    monkeypatch.setattr("storage.migrate.upgrade", lambda url: None)
    closed: list[str] = []
    monkeypatch.setattr("aiohttp.ClientSession.close", _recording(closed, "wecom"))
    monkeypatch.setattr("aiogram.client.session.aiohttp.AiohttpSession.close", _recording(closed, "telegram"))
    fake_app = {"wecom_corp_id": "wwcorp", "wecom_agent_id": 1000002, "wecom_app_secret": "s" * 43,
                "wecom_callback_token": "token", "wecom_callback_aes_key": "A" * 43}  # fmt: skip
    settings = load_settings(data_dir=tmp_path, bot_token="123456:" + "A" * 35, **fake_app)
    assert delivery.deliver(settings, "sqlite:///unused", once=once) == 0
    channels = seen["channels"]
    assert channels.for_key("tg:-1001") is not None and channels.for_key("wecom:group:x") is not None
    assert sorted(closed) == ["telegram", "wecom"]


def _recording(closed: list[str], name: str):
    """A stand-in for a session's close() that notes the call."""

    async def close(self, *args, **kwargs) -> None:
        closed.append(name)

    return close


async def test_deliver_runs_until_sigterm_and_closes_cleanly(tmp_path):
    async with FakeWeCom() as fake:
        settings = wecom_settings(fake, tmp_path)
        services = await open_services(settings)
        try:
            await submit(services.database, services.cipher, submission(VILLAGE_A, "王建国", "王小明", 1))
        finally:
            await services.close()
        assert await asyncio.to_thread(hr_add, settings.db_url, COUNTY_A, "wecom:hr_lankao") == 0
        env = {name.upper(): str(value) for name, value in fake.settings().items() if name in APP_SETTINGS}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", DELIVER_ONCE.replace("'--once'", ""),
            env=clean_environ(tmp_path, DIGEST_MIN_RECORDS="1", PYTHONWARNINGS="always", **env),
            cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        await fake.wait_until(lambda: any(m.msgtype == "image" for m in fake.messages_to("hr_lankao")), 60)
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert "Unclosed" not in err.decode() and "Traceback" not in err.decode()
    assert "aiogram imported: False" in err.decode()
