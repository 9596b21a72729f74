"""A PNG chart of wishes by township: horizontal stacked bars, one colour per kind of wish, drawn with Pillow.

Chinese labels need a CJK font. `find_cjk_font` looks for one (fontconfig's `fc-list :lang=zh`, then
the usual Noto Sans CJK, Source Han Sans and WenQuanYi paths). Without one the chart falls back to Pillow's
default font, which has no Chinese glyphs: the labels then show as boxes (nothing is transliterated).
`chart_font()` says which font is used, and every PNG records it in its "Font" text chunk. On Debian or
Ubuntu, `apt-get install fonts-noto-cjk` (or `fonts-wqy-microhei`) provides one.
"""

from __future__ import annotations

import io
import math
import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

WIDTH = 960
MARGIN = 20
TITLE_HEIGHT = 56
LABEL_WIDTH = 140  # township names, right-aligned before the bars
LEGEND_WIDTH = 180
TOTAL_WIDTH = 64  # room after the longest bar for its total
BAR_HEIGHT = 24
BAR_PITCH = 34  # bar plus gap
LEGEND_PITCH = 26
AXIS_HEIGHT = 30  # tick labels under the bars
TEXT_SIZE = 14
TITLE_SIZE = 20
# Okabe-Ito: told apart by colour-blind readers too.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999")
INK = "#222222"
GRID = "#DDDDDD"
DEFAULT_FONT = "Pillow default font (no CJK glyphs)"
COMMON_CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/adobe-source-han-sans/SourceHanSansCN-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)
_PREFERRED = ("NotoSansCJK", "SourceHanSans", "wqy-microhei", "wqy-zenhei", "Noto", "Droid")  # sans first


@dataclass(frozen=True)
class _Plot:
    """Where the bars go and how counts map to pixels."""

    left: int
    right: int
    top: int
    bottom: int
    axis_max: int
    step: int

    def x(self, count: float) -> int:
        """The x pixel of a count."""
        return self.left + round(count / self.axis_max * (self.right - self.left))


def draw_wishes_chart(counts: dict[str, dict[str, int]], kinds: list[tuple[str, str]], title: str) -> bytes:
    """A PNG of counts by township (rows, in the given order) and kind of wish (stacked, in `kinds` order)."""
    # Kinds missing from `kinds` are not drawn; a township with no count at all gets an empty bar.
    size = chart_size(len(counts), len(kinds))
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    plot = _plot(counts, kinds, size)
    _draw_title(draw, title)
    _draw_axis(draw, plot)
    for row, (township, by_kind) in enumerate(counts.items()):
        _draw_bar(draw, plot, row, township, [by_kind.get(kind, 0) for kind, _ in kinds])
    _draw_legend(draw, kinds, plot.top)
    return _png(image, title)


def chart_size(townships: int, kinds: int) -> tuple[int, int]:
    """The chart's width and height in pixels for that many townships and kinds."""
    body = max(townships * BAR_PITCH, kinds * LEGEND_PITCH, BAR_PITCH)
    return WIDTH, TITLE_HEIGHT + body + AXIS_HEIGHT + MARGIN


def chart_font() -> str:
    """The font the charts use: a CJK font's path, or DEFAULT_FONT."""
    return find_cjk_font() or DEFAULT_FONT


@cache
def find_cjk_font() -> str | None:
    """The path of a font with Chinese glyphs on this machine, or None."""
    candidates = sorted(_fontconfig_chinese_fonts(), key=_preference) + list(COMMON_CJK_FONTS)
    return next((path for path in candidates if os.path.isfile(path)), None)


def _fontconfig_chinese_fonts() -> list[str]:
    """Files fontconfig lists as covering Chinese; empty without fontconfig."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        listing = subprocess.run(
            [fc_list, ":lang=zh", "file"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.split(":")[0].strip() for line in listing.splitlines() if line.strip()]


def _preference(path: str) -> int:
    """Rank a font file: sans-serif CJK families first, the rest after."""
    name = os.path.basename(path)
    return next(
        (rank for rank, family in enumerate(_PREFERRED) if family.lower() in name.lower()), len(_PREFERRED)
    )


@cache
def _font(size: int) -> Font:
    """The chart font at `size` pixels: the CJK font when there is one, else Pillow's default."""
    path = find_cjk_font()
    if path is None:
        return ImageFont.load_default(size)
    return ImageFont.truetype(path, size, index=_simplified_face(path))


def _simplified_face(path: str) -> int:
    """In a font collection, the face for Simplified Chinese (Noto Sans CJK puts Japanese first)."""
    if not path.lower().endswith(".ttc"):
        return 0
    for index in range(16):
        try:
            family = ImageFont.truetype(path, 12, index=index).getname()[0] or ""
        except OSError:
            break
        if family.endswith((" SC", " CN")):
            return index
    return 0


def _plot(counts: dict[str, dict[str, int]], kinds: list[tuple[str, str]], size: tuple[int, int]) -> _Plot:
    """The plot area and a round axis maximum covering the largest total."""
    ids = [kind for kind, _ in kinds]
    largest = max((sum(by_kind.get(kind, 0) for kind in ids) for by_kind in counts.values()), default=0)
    step = _nice_step(largest)
    top = TITLE_HEIGHT
    return _Plot(
        left=MARGIN + LABEL_WIDTH,
        right=WIDTH - MARGIN - LEGEND_WIDTH - TOTAL_WIDTH,
        top=top,
        bottom=size[1] - MARGIN - AXIS_HEIGHT,
        axis_max=max(step, math.ceil(largest / step) * step),
        step=step,
    )


def _nice_step(largest: int, ticks: int = 5) -> int:
    """A tick step of 1, 2 or 5 times a power of ten giving about `ticks` ticks."""
    if largest <= ticks:
        return 1
    raw = largest / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def _draw_title(draw: ImageDraw.ImageDraw, title: str) -> None:
    """The title, centred at the top."""
    font = _font(TITLE_SIZE)
    _text(draw, (WIDTH // 2, TITLE_HEIGHT // 2), _fit(title, font, WIDTH - 2 * MARGIN), font, "center")


def _draw_axis(draw: ImageDraw.ImageDraw, plot: _Plot) -> None:
    """Vertical grid lines with their counts under the bars, and the baseline."""
    font = _font(TEXT_SIZE)
    for value in range(0, plot.axis_max + 1, plot.step):
        x = plot.x(value)
        draw.line([(x, plot.top), (x, plot.bottom)], fill=GRID)
        _text(draw, (x, plot.bottom + AXIS_HEIGHT // 2), f"{value:,}", font, "center")
    draw.line([(plot.left, plot.top), (plot.left, plot.bottom)], fill=INK)


def _draw_bar(draw: ImageDraw.ImageDraw, plot: _Plot, row: int, township: str, values: list[int]) -> None:
    """One township: its name, its stacked segments (labelled when wide enough) and its total."""
    font = _font(TEXT_SIZE)
    top = plot.top + row * BAR_PITCH + (BAR_PITCH - BAR_HEIGHT) // 2
    middle = top + BAR_HEIGHT // 2
    _text(draw, (plot.left - 8, middle), _fit(township, font, LABEL_WIDTH - 8), font, "right")
    done = 0
    for index, value in enumerate(values):
        if value <= 0:
            continue
        start, end = plot.x(done), plot.x(done + value)
        colour = PALETTE[index % len(PALETTE)]
        draw.rectangle([(start, top), (max(start, end - 1), top + BAR_HEIGHT - 1)], fill=colour)
        label = f"{value:,}"
        if font.getlength(label) + 6 <= end - start:
            _text(draw, ((start + end) // 2, middle), label, font, "center", _readable_on(colour))
        done += value
    _text(draw, (plot.x(done) + 6, middle), f"{done:,}", font, "left")


def _draw_legend(draw: ImageDraw.ImageDraw, kinds: list[tuple[str, str]], top: int) -> None:
    """A swatch and a label per kind, in a column on the right."""
    font = _font(TEXT_SIZE)
    left = WIDTH - MARGIN - LEGEND_WIDTH
    for index, (_, label) in enumerate(kinds):
        middle = top + index * LEGEND_PITCH + LEGEND_PITCH // 2
        draw.rectangle([(left, middle - 7), (left + 14, middle + 7)], fill=PALETTE[index % len(PALETTE)])
        _text(draw, (left + 22, middle), _fit(label, font, LEGEND_WIDTH - 22), font, "left")


def _text(
    draw: ImageDraw.ImageDraw, at: tuple[int, int], text: str, font: Font, align: str, fill: str = INK
) -> None:
    """Text aligned left, right or centre on `at`, centred vertically (works with bitmap fonts too)."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    width = right - left
    x = {"left": at[0], "right": at[0] - width, "center": at[0] - width // 2}[align] - left
    draw.text((x, at[1] - (top + bottom) // 2), text, font=font, fill=fill)


def _fit(text: str, font: Font, width: float) -> str:
    """The text, shortened with an ellipsis when wider than `width` pixels."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _readable_on(colour: str) -> str:
    """Black or white, whichever reads better on `colour`."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return INK if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else "white"


def _png(image: Image.Image, title: str) -> bytes:
    """The image as PNG bytes, recording its title and the font used."""
    info = PngInfo()
    info.add_itxt("Title", title)
    info.add_text("Font", chart_font())
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()
