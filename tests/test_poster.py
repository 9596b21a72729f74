"""`outreach poster`: a PNG whose QR code opens the bot with the village chosen."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.cli.poster import poster_command
from bot.features.poster import MARGIN, WIDTH, PosterError, deep_link, find_cjk_font, qr_image

VILLAGE = "410225101201"  # 徐场村 in the shipped sample county


def has_cjk_font() -> bool:
    """True when a font that draws Chinese is installed (.ci/run installs one)."""
    try:
        find_cjk_font()
    except PosterError:
        return False
    return True


def test_deep_link_names_the_village():
    assert (
        deep_link("@village_outreach_bot", VILLAGE) == f"https://t.me/village_outreach_bot?start=v_{VILLAGE}"
    )
    with pytest.raises(PosterError):
        deep_link("not a name!", VILLAGE)


@pytest.mark.skipif(not has_cjk_font(), reason="no CJK font installed (apt-get install fonts-wqy-microhei)")
def test_poster_carries_the_qr_code_of_the_deep_link(tmp_path, capsys):
    out = tmp_path / "poster.png"
    assert poster_command(f"sqlite:///{tmp_path}/db.sqlite3", VILLAGE, out, "village_outreach_bot", "zh") == 0
    assert capsys.readouterr().out.strip().endswith(f"start=v_{VILLAGE}")
    poster = Image.open(io.BytesIO(out.read_bytes())).convert("RGB")
    qr = qr_image(deep_link("village_outreach_bot", VILLAGE))
    left, top = (WIDTH - qr.width) // 2, MARGIN + 120
    assert poster.crop((left, top, left + qr.width, top + qr.height)).tobytes() == qr.tobytes()


def test_unknown_village_is_a_one_line_error(tmp_path, capsys):
    out = tmp_path / "poster.png"
    code = poster_command(
        f"sqlite:///{tmp_path}/db.sqlite3", "410225999999", out, "village_outreach_bot", "zh"
    )
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert err.count("\n") == 1 and ("no village" in err or "font" in err)


def test_missing_username_is_a_one_line_error(tmp_path, capsys):
    assert poster_command(f"sqlite:///{tmp_path}/db.sqlite3", VILLAGE, tmp_path / "p.png", None, "zh") == 2
    assert "username" in capsys.readouterr().err
