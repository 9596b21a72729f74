"""HTML from jinja2 templates (autoescaped), with texts from the gettext catalogs (domain `web`)."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

from content.i18n import Translator

HTML_LANG = {"zh_Hans": "zh-Hans", "en": "en"}


@cache
def environment() -> jinja2.Environment:
    """The template environment: autoescape on, undefined names are errors."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("bot.channels.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, translator: Translator, **values: Any) -> str:
    """A page in the translator's language; `t(key, **params)` gives catalog texts."""

    def t(key: str, **params: Any) -> str:
        return translator.text(key, params)

    page = environment().get_template(template)
    return page.render(
        t=t, lang=translator.lang, html_lang=HTML_LANG.get(translator.lang, "zh-Hans"), **values
    )
