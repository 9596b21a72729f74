"""Catalogs and rendering: turn the engine's replies into text in the reader's language.

Messages live in gettext catalogs, `locales/<lang>/LC_MESSAGES/<domain>.po`, one domain per
part of the bot so that people can work on them side by side. Babel reads them and formats
numbers and money for each language.
"""

from __future__ import annotations

import gettext
import logging
import string
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from dialogs.model import DEFAULT_LANGUAGE, LANGUAGES, Items, Money, Number, Option, Ref, Reply

LOCALES_DIR = Path(__file__).parent / "locales"
BABEL_LOCALES = {"zh_Hans": "zh_Hans_CN", "en": "en"}
log = logging.getLogger(__name__)

Message = str | tuple[str, ...]  # a text, or its plural forms


@dataclass(frozen=True)
class Rendered:
    """A reply as text, with its buttons as (id, label) pairs."""

    text: str
    buttons: tuple[tuple[str, str], ...]
    token: int | None
    notice: bool
    typed: bool = False  # the question takes a typed answer (numbers are text there, not buttons)


def catalog_files(lang: str, locales_dir: Path = LOCALES_DIR) -> list[Path]:
    """The .po files of one language, one per domain."""
    return sorted((locales_dir / lang / "LC_MESSAGES").glob("*.po"))


@cache
def load_messages(lang: str, locales_dir: Path = LOCALES_DIR) -> dict[str, Message]:
    """All translated messages of a language, from every domain; fuzzy and empty ones left out."""
    messages: dict[str, Message] = {}
    for path in catalog_files(lang, locales_dir):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=BABEL_LOCALES.get(lang, lang))
        for message in catalog:
            if not message.id or message.fuzzy:
                continue
            key = message.id[0] if isinstance(message.id, tuple | list) else message.id
            text = tuple(message.string) if isinstance(message.string, tuple | list) else message.string
            if text and any(text if isinstance(text, tuple) else [text]):
                messages[key] = text
    return messages


def placeholders(text: str) -> set[str]:
    """The names of the {placeholders} in a message."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def language_from_telegram(code: str | None) -> str:
    """Map Telegram's IETF language code to one of ours: Chinese of any kind to zh_Hans."""
    code = (code or "").lower().replace("_", "-")
    if code == "en" or code.startswith("en-"):
        return "en"
    # zh, zh-hans, zh-cn, zh-sg and also zh-hant/zh-tw/zh-hk: Simplified is closer for them
    # than English, and every other language gets the bot's default, Simplified Chinese.
    return DEFAULT_LANGUAGE


class Translator:
    """Texts and formatting for one language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self.locale = Locale.parse(BABEL_LOCALES[self.lang])
        self.messages = load_messages(self.lang)
        self.fallback = load_messages(DEFAULT_LANGUAGE)

    def text(self, key: str, params: Iterable[tuple[str, Any]] | dict[str, Any] = ()) -> str:
        """The message for a key with its parameters filled in; never raises for a user."""
        values = dict(params)
        template = self._template(key, values.get("n"))
        formatted = {name: self.format_value(value) for name, value in values.items()}
        try:
            return template.format(**formatted)
        except (KeyError, IndexError, ValueError):
            log.error("message %s (%s) does not fit its parameters %s", key, self.lang, sorted(values))
            return template

    def _template(self, key: str, count: Any) -> str:
        """The message text, choosing the plural form for `n` where the message has forms."""
        message = self.messages.get(key) or self.fallback.get(key)
        if message is None:
            log.error("message %s missing in %s", key, self.lang)
            return key
        if isinstance(message, tuple):
            index = plural_rule(self.lang)(int(count or 0))
            return message[min(index, len(message) - 1)]
        return message

    def format_value(self, value: Any) -> str:
        """A parameter as text: money, numbers, other keys, lists."""
        if isinstance(value, Money):
            # One way to write money: "1700元" in Chinese (as the notice writes it), "1,700 yuan".
            grouped = self.lang != "zh_Hans"
            amount = format_decimal(value.cny, locale=self.locale, group_separator=grouped)
            return self.text("fmt.money", {"amount": amount})
        if isinstance(value, Number):
            return format_decimal(value.value, locale=self.locale)
        if isinstance(value, Ref):
            return self.text(value.key, value.params)
        if isinstance(value, Items):
            return "\n".join(self.text("fmt.item", {"item": self.format_value(v)}) for v in value.items)
        return str(value)

    def label(self, option: Option) -> str:
        """A button's label."""
        return self.text(option.label, option.params)

    def render(self, reply: Reply) -> Rendered:
        """A reply as text and buttons; citations end the text."""
        text = self.text(reply.key, reply.params)
        if reply.cite:
            sources = self.text("core.list_separator").join(reply.cite)
            text = f"{text}\n\n{self.text('core.source', {'sources': sources})}"
        buttons = tuple((option.id, self.label(option)) for option in reply.options)
        return Rendered(text=text, buttons=buttons, token=reply.token, notice=reply.notice, typed=reply.typed)


@cache
def translator(lang: str) -> Translator:
    """The translator of a language, made once."""
    return Translator(lang)


def label_text(lang: str, option: Option) -> str:
    """A button's label in a language (the engine matches typed words against it)."""
    return translator(lang).label(option)


@cache
def plural_rule(lang: str, locales_dir: Path = LOCALES_DIR) -> Any:
    """The gettext plural rule from the language's catalogs (index of the form for n)."""
    for path in catalog_files(lang, locales_dir):
        with path.open("rb") as handle:
            return gettext.c2py(read_po(handle).plural_expr)
    return lambda n: 0
