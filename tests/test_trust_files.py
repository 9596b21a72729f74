"""Issue 10, point 7: the database, exports, QR images and data folders are private, whatever the umask.

Temporary export files are made by mkstemp in the target folder: a symlink planted where the old
code put its `.NAME.part` file is never followed.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import access as cli_access
from bot.core.services import open_services
from bot.core.settings import load_settings
from storage.exports.csv_export import write_csv
from storage.exports.xlsx import Column, write_xlsx

COLUMNS = [Column("姓名")]


def mode(path: Path) -> int:
    """The permission bits of a file or folder."""
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """A umask that would make every new file world-readable."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


async def test_the_data_folder_and_database_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    services = await open_services(load_settings(data_dir=data, bot_token=None, database_url=""))
    await services.close()
    assert mode(data) == 0o700
    files = [p for p in data.iterdir() if p.name.startswith("outreach.sqlite3")]
    assert files and all(mode(p) == 0o600 for p in files), [(p.name, oct(mode(p))) for p in files]


@pytest.mark.parametrize("writer", [write_csv, write_xlsx])
def test_an_export_is_private_and_a_planted_symlink_is_not_followed(tmp_path: Path, writer) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "export.file"
    (tmp_path / f".{out.name}.part").symlink_to(victim)  # where the old code wrote first
    writer(out, COLUMNS, [["王小明"]])
    assert victim.read_text() == "keep me"
    assert mode(out) == 0o600 and not out.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [".export.file.part", "export.file", "victim.txt"]
    )


def test_an_invitation_qr_image_is_private(tmp_path: Path, migrated_sqlite_url: str) -> None:
    qr = tmp_path / "invite.png"
    code = cli_access.invite(
        migrated_sqlite_url, "hr", "county", "410225", bot_username="outreach_bot", qr_path=qr
    )
    assert code == 0 and mode(qr) == 0o600 and qr.read_bytes()[:4] == b"\x89PNG"
