"""The village QR poster: scanning it opens the bot with the village already chosen.

https://t.me/<bot>?start=v_<12-digit village code>  ──►  /start v_<code>  ──►  intake, village known
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

USERNAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{4,31}$")
# Where Debian and other systems keep CJK fonts (fonts-wqy-microhei, fonts-noto-cjk).
CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)
WIDTH, MARGIN, QR_BOX = 1240, 80, 20  # A4 at 150 dpi is 1240 px wide


class PosterError(ValueError):
    """The poster cannot be made (bad username, no font for Chinese text)."""


def deep_link(bot_username: str, village_code: str) -> str:
    """The t.me link that starts the bot with the village preselected."""
    if not USERNAME_PATTERN.match(bot_username.removeprefix("@")):
        raise PosterError(f"'{bot_username}' is not a Telegram bot username")
    return f"https://t.me/{bot_username.removeprefix('@')}?start=v_{village_code}"


def find_cjk_font(explicit: str | None = None) -> Path:
    """A font that can draw Chinese: POSTER_FONT, or a known system path."""
    for candidate in (explicit, os.environ.get("POSTER_FONT"), *CJK_FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise PosterError("no font for Chinese text: install fonts-wqy-microhei or set POSTER_FONT=/path/to/font")


def qr_image(link: str) -> Image.Image:
    """The QR code of the link, with high error correction (posters get dirty and torn)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_H, box_size=QR_BOX, border=2)
    code.add_data(link)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


def make_poster(link: str, title: str, lines: list[str], font_path: Path) -> bytes:
    """A white PNG: a big title, the QR code, then a few short lines of text."""
    qr = qr_image(link)
    title_font = ImageFont.truetype(str(font_path), 72)
    body_font = ImageFont.truetype(str(font_path), 40)
    height = MARGIN * 3 + 100 + qr.height + 64 * len(lines)
    poster = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(poster)
    _centered(draw, MARGIN, title, title_font)
    poster.paste(qr, ((WIDTH - qr.width) // 2, MARGIN + 120))
    top = MARGIN * 2 + 100 + qr.height
    for number, line in enumerate(lines):
        _centered(draw, top + 64 * number, line, body_font)
    buffer = io.BytesIO()
    poster.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _centered(draw: ImageDraw.ImageDraw, top: int, text: str, font: ImageFont.FreeTypeFont) -> None:
    """Draw one line of text centred on the page."""
    width = draw.textlength(text, font=font)
    draw.text(((WIDTH - width) / 2, top), text, fill="black", font=font)
