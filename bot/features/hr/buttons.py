"""Button ids of the HR side: ids and codes only, never personal data or translated text.

"h:<action>:<number>:<status>", e.g. "h:s:12:contacted" (set record 12's status), "h:n:7:" (no note
for status change 7), "h:p:2:" (page 2 of /pending). The format is the one aiogram's CallbackData
made before the HR side became channel-neutral, so buttons already in chats keep working.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "h"
SEPARATOR = ":"
SET_STATUS, NO_NOTE, PAGE = "s", "n", "p"
ACTIONS = (SET_STATUS, NO_NOTE, PAGE)
MAX_ID_BYTES = 64  # Telegram's callback data; WeCom card keys and kf menu ids take more


@dataclass(frozen=True)
class HrPress:
    """A press of action `a` on `r`: a record id (s), a status change id (n) or a page number (p)."""

    a: str
    r: int
    s: str = ""  # the status code for SET_STATUS

    def pack(self) -> str:
        """The button id."""
        return SEPARATOR.join((PREFIX, self.a, str(self.r), self.s))


def is_ours(data: str | None) -> bool:
    """Whether button data carries this side's prefix."""
    return data is not None and (data == PREFIX or data.startswith(PREFIX + SEPARATOR))


def parse(data: str) -> HrPress | None:
    """The press, or None for data we did not make (forged, or from an older version)."""
    parts = data.split(SEPARATOR)
    if len(parts) != 4 or parts[0] != PREFIX or len(data.encode()) > MAX_ID_BYTES:
        return None
    _, action, number, status = parts
    if action not in ACTIONS or not number.isdigit() or not number.isascii():
        return None
    return HrPress(action, int(number), status)
