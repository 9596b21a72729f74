"""Issue 10, points 4 and 5: secrets cannot be switched off or weakened by accident; keys.

Empty or weak WEBHOOK_SECRET and DATA_KEY values are refused with one line; Telegram without
DATA_KEY is refused; the development key's file and folder are private whatever the umask; a
wrong key is refused at start by the stored check value; rotation re-seals dialog drafts.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.core.sealing import seal, unseal
from bot.core.services import open_services
from bot.core.settings import Settings, SettingsError, load_settings
from dialogs.model import State
from storage.crypto import Cipher, dev_secret
from storage.db import Database
from storage.models import Conversation
from storage.models_trust import KeyCheck
from storage.repositories import keys
from tests.access_support import (  # noqa: F401
    SECRET,
    cipher_fixture,
    db_fixture,
    member,
    resident_id,
    submission,
    submit,
    url_fixture,
)

OTHER_SECRET = "another-secret-9876543210-zyxwvutsrqponm"
TOKEN = "123456:" + "A" * 35


@pytest.mark.parametrize(
    "value", ["", "short-secret", "a" * 24, "x" * 300, "has space in it 0123456789abcdef"]
)
def test_empty_or_weak_webhook_secrets_are_refused_with_one_line(value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(webhook_secret=value)
    assert str(raised.value).startswith("setting WEBHOOK_SECRET:") and "\n" not in str(raised.value)


def test_a_good_webhook_secret_is_accepted() -> None:
    secret = "Zk3_q-9fLmN2pQrStUvWxY01"
    assert load_settings(webhook_secret=secret).webhook_secret.get_secret_value() == secret


@pytest.mark.parametrize("value", ["a" * 32, "abababababababababababababababab", "short"])
def test_weak_data_keys_are_refused_with_one_line(value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(data_key=value)
    assert str(raised.value).startswith("setting DATA_KEY:") and "\n" not in str(raised.value)


def test_telegram_without_data_key_is_refused(tmp_path: Path) -> None:
    settings = load_settings(bot_token=TOKEN, data_dir=tmp_path, data_key="")
    with pytest.raises(SettingsError, match="setting DATA_KEY: required for Telegram"):
        settings.cipher_secrets(required=True)
    assert not (tmp_path / "data.key").exists()  # no development key was made on the way


def test_outreach_run_on_telegram_without_data_key_stops_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATA_KEY", "WEBHOOK_SECRET")}
    env |= {"BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": "http://127.0.0.1:9", "DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", "from bot.cli.main import main; main()", "run"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [done.stderr.strip()] and "DATA_KEY" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that would make files world-readable."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_the_development_key_and_its_folder_are_private(tmp_path: Path, open_umask: None) -> None:
    folder = tmp_path / "data"
    dev_secret(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "data.key").stat().st_mode) == 0o600


def settings_on(url: str, tmp_path: Path, secret: str) -> Settings:
    """Console settings on a test database with this DATA_KEY."""
    return load_settings(database_url=url, data_dir=tmp_path, data_key=secret, bot_token=None)


async def test_a_wrong_key_is_refused_at_start(url: str, tmp_path: Path) -> None:
    services = await open_services(settings_on(url, tmp_path, SECRET))
    await services.close()
    with pytest.raises(SettingsError, match="DATA_KEY does not open the stored data"):
        await open_services(settings_on(url, tmp_path, OTHER_SECRET))
    both = await open_services(settings_on(url, tmp_path, f"{OTHER_SECRET},{SECRET}"))  # a rotation
    await both.close()


async def test_data_stored_before_the_check_value_is_tried(db: Database, cipher: Cipher) -> None:
    await submit(
        db,
        cipher,
        submission("王建国", resident_id("410225", "19780512", "131"), "13812345678", "4102251012010001"),
    )
    async with db.session() as session:
        with pytest.raises(keys.KeyMismatch):
            await keys.check_key(session=session, cipher=Cipher.from_secret(OTHER_SECRET))
    async with db.session() as session:
        await keys.check_key(session=session, cipher=cipher)
        assert (await session.get(KeyCheck, 1)).value == cipher.key_check()


async def test_rotation_re_seals_drafts_and_the_check_value(db: Database, cipher: Cipher) -> None:
    kept = {"step": "h_name", "answers": {"h.number": "4102251012010001"}}  # an intake put aside
    draft = State(
        lang="zh_Hans",
        flow="intake",
        step="h_phone",
        answers={"h.phone": "13812345678"},
        drafts={"check": kept},
    )
    async with db.session() as session:
        session.add(Conversation(key="tg:42", state=seal(draft, cipher), updated_at=0.0))
        await keys.check_key(session=session, cipher=cipher)
    rotating = Cipher.from_secret([OTHER_SECRET, SECRET])
    async with db.session() as session:
        assert await keys.rotate_keys(session=session, cipher=rotating) >= 1
    new_only = Cipher.from_secret(OTHER_SECRET)
    async with db.session() as session:
        (stored,) = (await session.exec(select(Conversation))).all()
        await keys.check_key(session=session, cipher=new_only)  # the old key may go now
    opened = unseal(stored.state, new_only, "zh_Hans")
    assert opened.answers == {"h.phone": "13812345678"} and opened.drafts == {"check": kept}


def test_an_invitation_code_from_a_deep_link_is_not_stored(cipher: Cipher) -> None:
    state = State(lang="zh_Hans", flow="menu", step="main", data={"start_payload": "i_s3cretInvitationCode"})
    stored = seal(state, cipher)
    assert "s3cretInvitationCode" not in stored
    poster = State(lang="zh_Hans", data={"start_payload": "v_410225101201"})  # a village poster's link stays
    assert "v_410225101201" in seal(poster, cipher)
