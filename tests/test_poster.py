"""`outreach poster`: an A4 PDF per township or county, one page per village, each QR opening the bot there.

The decoding test renders a page with `pdftoppm` and reads its QR code with `zbarimg` (Debian's
poppler-utils and zbar-tools, which .ci/run installs); it is skipped, with the reason, without them.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.cli.poster import PosterRequest, poster_command
from bot.features.poster import (
    LINK_BUILDERS,
    PosterError,
    dark_runs,
    deep_link,
    find_cjk_font,
    qr_matrix,
    village_link,
)
from tests.area_support import GUYANG, LANKAO, QIXIAN, ZHOUCHANG

BOT = {"bot_username": "village_outreach_bot"}


def has_cjk_font() -> bool:
    """True when a font that draws Chinese is installed (.ci/run installs one)."""
    try:
        find_cjk_font()
    except PosterError:
        return False
    return True


needs_font = pytest.mark.skipif(not has_cjk_font(), reason="no CJK font (apt-get install fonts-wqy-microhei)")
needs_tools = pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("zbarimg")),
    reason="pdftoppm or zbarimg missing (apt-get install poppler-utils zbar-tools)",
)


def make(tmp_path: Path, out: Path | None = None, **areas: str) -> tuple[int, Path]:
    """Run the command on a fresh SQLite database (seeded with the 兰考县 extract)."""
    out = out or tmp_path / "posters.pdf"
    request = PosterRequest(out=out, areas=areas, options=BOT)
    return poster_command(f"sqlite:///{tmp_path}/db.sqlite3", request), out


# ---------------------------------------------------------------- links


def test_the_link_comes_from_the_channel():
    expected = f"https://t.me/village_outreach_bot?start=v_{ZHOUCHANG}"
    assert (
        village_link("telegram", ZHOUCHANG, BOT) == expected == deep_link("@village_outreach_bot", ZHOUCHANG)
    )
    assert set(LINK_BUILDERS) >= {"telegram"}
    with pytest.raises(PosterError, match="no poster link for channel 'fax'"):
        village_link("fax", ZHOUCHANG, BOT)
    with pytest.raises(PosterError, match="not a Telegram bot username"):
        village_link("telegram", ZHOUCHANG, {"bot_username": "not a name!"})
    with pytest.raises(PosterError, match="username is needed"):
        village_link("telegram", ZHOUCHANG, {})
    with pytest.raises(PosterError, match="12-digit"):
        village_link("telegram", "410225", BOT)


def test_qr_modules_are_drawn_as_runs():
    assert dark_runs([True, True, False, True, False, False, True]) == [(0, 2), (3, 1), (6, 1)]
    matrix = qr_matrix(deep_link("village_outreach_bot", ZHOUCHANG))
    assert len(matrix) == len(matrix[0]) >= 29 and matrix[2][2]  # a finder pattern inside the quiet zone


# ---------------------------------------------------------------- the command


@needs_font
def test_a_township_gives_one_page_per_village_with_real_text(tmp_path, capsys):
    code, out = make(tmp_path, township=GUYANG)
    assert code == 0 and capsys.readouterr() == (f"{out}: 48 posters\n", "")
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 48
    if shutil.which("pdftotext"):
        page = subprocess.run(
            ["pdftotext", "-f", "48", "-l", "48", str(out), "-"], capture_output=True, text=True
        )
        text = page.stdout
        assert "周场村" in text and "兰考县 堌阳镇" in text  # real text, the short name, its township
        assert "扫一扫" in text and "Telegram" not in text and "委员会" not in text
    if shutil.which("pdffonts"):
        fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True).stdout
        assert " yes yes " in fonts  # embedded and subset


@needs_font
@needs_tools
def test_the_qr_code_of_a_page_opens_the_bot_at_its_village(tmp_path):
    code, out = make(tmp_path, township=GUYANG)
    assert code == 0
    subprocess.run(
        ["pdftoppm", "-r", "72", "-f", "48", "-l", "48", "-png", str(out), str(tmp_path / "p")], check=True
    )
    (page,) = tmp_path.glob("p*.png")
    decoded = subprocess.run(
        ["zbarimg", "-q", "--raw", str(page)], capture_output=True, text=True, check=True
    )
    assert decoded.stdout.strip() == f"https://t.me/village_outreach_bot?start=v_{ZHOUCHANG}"


@needs_font
def test_a_county_and_a_single_village(tmp_path, capsys):
    assert make(tmp_path, county=LANKAO)[0] == 0
    assert capsys.readouterr().out.endswith(": 470 posters\n")
    assert make(tmp_path, tmp_path / "one.pdf", village=ZHOUCHANG)[0] == 0
    assert capsys.readouterr().out.endswith("one.pdf: 1 posters\n")


@pytest.mark.parametrize(
    ("areas", "message"),
    [
        ({"township": "410225999"}, "error: no township with code 410225999 (see `outreach areas list`)\n"),
        ({"township": LANKAO}, "error: no township with code 410225 (see `outreach areas list`)\n"),
        ({"county": QIXIAN}, "error: county 410221 (杞县) has no villages in the area list\n"),
        (
            {"county": LANKAO, "township": GUYANG},
            "error: give exactly one of --village, --township, --county\n",
        ),
        ({}, "error: give exactly one of --village, --township, --county\n"),
    ],
)
@needs_font
def test_bad_requests_are_one_line_errors(tmp_path, capsys, areas, message):
    code, out = make(tmp_path, **areas)
    assert (code, capsys.readouterr().err) == (2, message) and not out.exists()


@needs_font
def test_an_unwritable_path_is_refused_before_any_work(tmp_path, capsys):
    code, _ = make(tmp_path, tmp_path / "missing" / "p.pdf", township=GUYANG)
    assert (
        code == 2
        and capsys.readouterr().err
        == f"error: cannot write {tmp_path}/missing/p.pdf: no folder {tmp_path}/missing\n"
    )
    code, _ = make(tmp_path, tmp_path, township=GUYANG)
    assert code == 2 and "it is a directory" in capsys.readouterr().err
    assert not (tmp_path / "db.sqlite3").exists()  # refused before the database was touched


def test_an_unknown_channel_or_missing_username_is_a_one_line_error(tmp_path, capsys):
    request = PosterRequest(out=tmp_path / "p.pdf", areas={"township": GUYANG}, channel="fax", options=BOT)
    assert poster_command(f"sqlite:///{tmp_path}/db.sqlite3", request) == 2
    assert capsys.readouterr().err.startswith("error: no poster link for channel 'fax'")
    request = PosterRequest(out=tmp_path / "p.pdf", areas={"township": GUYANG})
    assert poster_command(f"sqlite:///{tmp_path}/db.sqlite3", request) == 2
    assert "username" in capsys.readouterr().err


@needs_font
def test_the_font_subsetting_does_not_flood_the_log(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    assert make(tmp_path, village=ZHOUCHANG)[0] == 0
    assert not [r for r in caplog.records if r.name.startswith("fontTools") and r.levelno < logging.WARNING]
