"""Village posters: an A4 PDF, one page per village, whose QR code opens the bot with the village chosen.

    village_link("telegram", code, {"bot_username": ...})  ──►  https://t.me/<bot>?start=v_<code>
    ──►  /start v_<code>  ──►  the intake with the village known

The link comes from the channel the county runs: `village_link` is the one place that builds it,
one builder per channel name (`LINK_BUILDERS`): "telegram" (a t.me deep link) and "wecom" (the
微信客服 contact link with scene_param); the web channel adds its own there. Pages are drawn with
fpdf2: the text is real text in an embedded (subset) CJK font, the QR code vector squares, so a
page stays sharp at any print size.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import qrcode
from PIL import Image

if TYPE_CHECKING:
    from fpdf import FPDF

USERNAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{4,31}$")
VILLAGE_CODE = re.compile(r"^[0-9]{12}$")
# Where Debian and other systems keep CJK fonts (fonts-wqy-microhei, fonts-noto-cjk).
CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)
QR_BOX = 20  # pixels per module of the PNG QR code (invitations)

# A4 in millimetres; a 130 mm QR code is read by a phone from about 1.5 m on a wall.
PAGE_W, PAGE_H, MARGIN = 210.0, 297.0, 15.0
QR_SIZE, QR_TOP = 130.0, 62.0
NAME_PT, PLACE_PT, LINE_PT, SOURCE_PT = 44, 20, 17, 10


class PosterError(ValueError):
    """The poster cannot be made (bad username, unknown channel, no font for Chinese text)."""


# ---------------------------------------------------------------- links, per channel


def telegram_link(village_code: str, options: Mapping[str, str | None]) -> str:
    """The t.me deep link that starts the bot with the village preselected (`v_<code>`)."""
    username = (options.get("bot_username") or "").removeprefix("@")
    if not username:
        raise PosterError("the bot's username is needed: --bot-username NAME or BOT_USERNAME")
    if not USERNAME_PATTERN.match(username):
        raise PosterError(f"'{username}' is not a Telegram bot username")
    return f"https://t.me/{username}?start=v_{village_code}"


def wecom_link(village_code: str, options: Mapping[str, str | None]) -> str:
    """The 微信客服 contact link with `scene_param=v_<code>`: scanned in WeChat, it opens the county's
    客服 chat, and the enter_session event hands the bot the village (as Telegram's /start v_<code>)."""
    link = (options.get("wecom_kf_link") or "").strip()
    if not link:
        raise PosterError("the 客服 contact link is needed: WECOM_KF_LINK (from kf/add_contact_way)")
    if not link.startswith("https://") or "scene_param=" in link:
        raise PosterError("WECOM_KF_LINK must be the https:// link kf/add_contact_way gave, unchanged")
    separator = "&" if "?" in link else "?"
    return f"{link}{separator}scene_param={quote('v_' + village_code, safe='')}"


LinkBuilder = Callable[[str, Mapping[str, str | None]], str]
# One entry per channel a county can run; issue 15 adds "web".
LINK_BUILDERS: dict[str, LinkBuilder] = {"telegram": telegram_link, "wecom": wecom_link}


def village_link(channel: str, village_code: str, options: Mapping[str, str | None]) -> str:
    """The link a village's poster carries, for the channel the county runs."""
    builder = LINK_BUILDERS.get(channel)
    if builder is None:
        known = ", ".join(sorted(LINK_BUILDERS))
        raise PosterError(f"no poster link for channel '{channel}' (known: {known})")
    if not VILLAGE_CODE.match(village_code):
        raise PosterError(f"'{village_code}' is not a 12-digit village code")
    return builder(village_code, options)


def deep_link(bot_username: str, village_code: str) -> str:
    """The Telegram deep link of a village (kept for callers that only know Telegram)."""
    return village_link("telegram", village_code, {"bot_username": bot_username})


# ---------------------------------------------------------------- fonts and QR codes


def find_cjk_font(explicit: str | None = None) -> Path:
    """A font that can draw Chinese: the one given, POSTER_FONT, or a known system path."""
    for candidate in (explicit, os.environ.get("POSTER_FONT"), *CJK_FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise PosterError("no font for Chinese text: install fonts-wqy-microhei or set POSTER_FONT=/path/to/font")


def qr_matrix(link: str) -> list[list[bool]]:
    """The QR code's modules (True = dark), quiet zone 2, high error correction (posters get torn)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_H, border=2)
    code.add_data(link)
    code.make(fit=True)
    return code.get_matrix()


def qr_image(link: str) -> Image.Image:
    """The QR code as a PNG-ready image (invitation codes)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_H, box_size=QR_BOX, border=2)
    code.add_data(link)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


def dark_runs(row: Sequence[bool]) -> list[tuple[int, int]]:
    """(start, length) of each run of dark modules in a row: one rectangle each instead of one per module."""
    runs: list[tuple[int, int]] = []
    start = None
    for column, dark in enumerate([*row, False]):
        if dark and start is None:
            start = column
        elif not dark and start is not None:
            runs.append((start, column - start))
            start = None
    return runs


# ---------------------------------------------------------------- pages


@dataclass(frozen=True)
class PosterPage:
    """What one village's page says."""

    village_code: str
    name: str  # the short name: 周场村
    place: str  # the township and county: 兰考县 堌阳镇
    link: str


@dataclass(frozen=True)
class PosterTexts:
    """The catalog lines every page carries (already in the reader's language)."""

    lines: tuple[str, ...]  # two or three plain lines: what the bot is for, what to do
    source: str  # the notice the bot explains, in small print


def render_pdf(
    pages: Iterable[PosterPage],
    texts: PosterTexts,
    font: Path,
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """An A4 PDF with one page per village; the font is embedded, subset to the characters used."""
    from fpdf import FPDF  # imported here: only the poster command needs it

    logging.getLogger("fontTools").setLevel(logging.WARNING)  # subsetting logs every glyph at INFO
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.add_font("cjk", fname=str(font))
    pdf.set_title("village posters")
    for number, page in enumerate(pages, start=1):
        _draw_page(pdf, page, texts)
        if progress is not None:
            progress(number)
    return bytes(pdf.output())


def _draw_page(pdf: FPDF, page: PosterPage, texts: PosterTexts) -> None:
    """One village: its name, its township, the QR code, the plain lines, the source."""
    pdf.add_page()
    width = PAGE_W - 2 * MARGIN
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("cjk", size=NAME_PT)
    pdf.set_xy(MARGIN, 20)
    pdf.cell(width, 18, page.name, align="C")
    pdf.set_font("cjk", size=PLACE_PT)
    pdf.set_xy(MARGIN, 40)
    pdf.cell(width, 10, page.place, align="C")
    _draw_qr(pdf, page.link, (PAGE_W - QR_SIZE) / 2, QR_TOP, QR_SIZE)
    pdf.set_font("cjk", size=LINE_PT)
    pdf.set_xy(MARGIN, QR_TOP + QR_SIZE + 10)
    for line in texts.lines:
        pdf.set_x(MARGIN)
        pdf.multi_cell(width, 10, line, align="C")
    pdf.set_font("cjk", size=SOURCE_PT)
    pdf.set_text_color(90, 90, 90)
    pdf.set_xy(MARGIN, PAGE_H - MARGIN - 6)
    pdf.cell(width, 6, texts.source, align="C")


def _draw_qr(pdf: FPDF, link: str, left: float, top: float, size: float) -> None:
    """The QR code as filled rectangles, one per run of dark modules."""
    matrix = qr_matrix(link)
    module = size / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for row_number, row in enumerate(matrix):
        for start, length in dark_runs(row):
            x, y = left + start * module, top + row_number * module
            # A hair wider than the module, so that neighbouring rows leave no white seams when printed.
            pdf.rect(x, y, length * module, module + 0.05, style="F")
