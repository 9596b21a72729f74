"""Button data of the HR side: ids and codes only, never personal data or translated text."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

PREFIX = "h"
SET_STATUS, NO_NOTE, PAGE = "s", "n", "p"
ACTIONS = (SET_STATUS, NO_NOTE, PAGE)


class HrPress(CallbackData, prefix=PREFIX):
    """A press of action `a` on `r`: a record id (s), a status change id (n) or a page number (p)."""

    a: str
    r: int
    s: str = ""  # the status code for SET_STATUS


def is_ours(data: str | None) -> bool:
    """Whether callback data carries this side's prefix."""
    return data is not None and (data == PREFIX or data.startswith(PREFIX + ":"))


def parse(data: str) -> HrPress | None:
    """The press, or None for data we did not make (forged, or from an older version)."""
    try:
        press = HrPress.unpack(data)
    except (ValueError, TypeError):
        return None
    return press if press.a in ACTIONS and press.r >= 0 else None
