"""Button data: ids only, never translated text or personal data."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from dialogs.model import Input


class Press(CallbackData, prefix="p"):
    """A press of choice `c` on the question with token `t`."""

    t: int
    c: str


def press_data(token: int | None, choice_id: str) -> str:
    """The callback string for a button."""
    return Press(t=token or 0, c=choice_id).pack()


def input_from_callback(data: str | None) -> Input:
    """Parse callback data; anything we did not make becomes an invalid button."""
    try:
        press = Press.unpack(data or "")
    except (ValueError, TypeError):
        return Input("invalid_button")
    return Input.choice(press.c, press.t)
