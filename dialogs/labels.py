"""Typed words that are a button's own label press that button ("是", "不清楚", "接着做").

The engine has no catalogs: the book's context gives a `label(lang, option)` function (content/i18n.py).
"""

from __future__ import annotations

import unicodedata

from dialogs.model import Book, Input, Option, State


def words(text: str) -> str:
    """Text compared with a button's label: full-width forms folded, no spaces or arrows, lower case."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "«»")


def typed_choice(book: Book, state: State, text: str, options: tuple[Option, ...]) -> Input | None:
    """A typed text that is exactly one button's label, as a press of that button; else None."""
    label = book.context.get("label")
    typed = words(text)
    if not callable(label) or not typed:
        return None
    matches = [option.id for option in options if words(label(state.lang, option)) == typed]
    return Input.choice(matches[0]) if len(matches) == 1 else None


def typed_number(text: str) -> int | None:
    """A number typed to press a button: ASCII or full-width digits (①, ² fold to 1, 2), else None."""
    folded = unicodedata.normalize("NFKC", text.strip())
    return int(folded) if folded.isascii() and folded.isdigit() and len(folded) <= 4 else None
