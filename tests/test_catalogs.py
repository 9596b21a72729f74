"""Every message key used anywhere has a translation in every language, with the same placeholders."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.channels.telegram.app import COMMANDS
from content.i18n import LOCALES_DIR, catalog_files, load_messages, placeholders
from content.zh_pass import is_english
from content.zh_text import clause_id, fix_text, problems
from dialogs.model import LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"Reply": (1,), "Option": (2,), "text": (1,), "error": (1,)}
METHOD_MAP = [
    ("bot/**.py", "python"),
    ("dialogs/**.py", "python"),
    ("content/**.py", "python"),
    ("content/flows/**.yaml", "content.extract:extract_flow_keys"),
]


def _source_dirs_only(dirpath: str) -> bool:
    """Walk the project's packages only (not the virtualenv or caches)."""
    top = Path(dirpath).resolve().relative_to(ROOT).parts[:1]
    return not top or top[0] in {"bot", "dialogs", "content", "storage"}


def used_keys() -> set[str]:
    """Keys Babel extracts from the code and the flows, plus the families built at run time."""
    found = {
        message
        for _, _, message, _, _ in extract_from_dir(
            str(ROOT), METHOD_MAP, keywords=KEYWORDS, directory_filter=_source_dirs_only
        )
        if isinstance(message, str) and "." in message and " " not in message
    }
    found |= {f"lang.{lang}" for lang in LANGUAGES} | {f"cmd.{command}" for command in COMMANDS}
    return found


def test_extraction_finds_code_and_flow_keys():
    keys = used_keys()
    assert {"core.welcome", "core.stale_button", "menu.main", "menu.explain", "err.number_needed"} <= keys


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_used_key_is_translated(lang):
    missing = sorted(used_keys() - set(load_messages(lang)))
    assert not missing, f"{lang} lacks {missing}"


def test_languages_have_the_same_keys_and_placeholders():
    catalogs = {lang: load_messages(lang) for lang in LANGUAGES}
    first, *others = LANGUAGES
    for other in others:
        assert set(catalogs[first]) == set(catalogs[other])
        for key, text in catalogs[first].items():
            theirs = catalogs[other][key]
            mine = text if isinstance(text, str) else text[0]
            theirs = theirs if isinstance(theirs, str) else theirs[0]
            assert placeholders(mine) == placeholders(theirs), key


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalogs_compile_with_babel(lang):
    for path in catalog_files(lang, LOCALES_DIR):
        with path.open("rb") as handle:
            catalog = read_po(handle)
        assert catalog.locale is not None, f"{path} has no Language header"
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        assert buffer.getvalue(), path


def _chinese_texts_of_content() -> list[tuple[str, str]]:
    """(file, text) for every Chinese string in content/policy and content/flows."""
    found: list[tuple[str, str]] = []

    def walk(node, where: str) -> None:
        if isinstance(node, str) and not is_english(node):
            found.append((where, node))
        elif isinstance(node, list):
            for item in node:
                walk(item, where)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key != "en":  # English texts keep English punctuation
                    walk(key, where)
                    walk(value, where)

    for path in sorted([*ROOT.glob("content/policy/**/*.yaml"), *ROOT.glob("content/flows/*.yaml")]):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)
    return found


def test_chinese_catalogs_use_full_width_punctuation_and_nin():
    bad = [
        f"{key}: {problem}"
        for key, text in load_messages("zh_Hans").items()
        for form in ([text] if isinstance(text, str) else text)
        for problem in problems(form)
    ]
    assert not bad, "\n".join(bad)


def test_chinese_content_texts_use_full_width_punctuation_and_nin():
    texts = _chinese_texts_of_content()
    assert len(texts) > 100
    bad = [f"{where}: {problem}" for where, text in texts for problem in problems(text)]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("家里是建档立卡贫困户吗?", "'?'"),
        ("来源:豫人社〔2017〕57号", "':'"),
        ("学费(每年)", "'('"),
        ("{name}:{amount}", "':'"),
        ("你想了解哪方面？", "你"),
    ],
)
def test_the_style_check_catches_half_width_marks_and_ni(text, complaint):
    assert any(complaint in problem for problem in problems(text))
    assert not problems(fix_text(text).replace("你", "您"))


def test_the_fix_keeps_placeholders_numbers_and_english():
    assert fix_text("{name}:{amount}({clause})") == "{name}：{amount}（{clause}）"
    assert fix_text("每年 {cny:,} 元, 四(一)") == "每年 {cny:,} 元，四（一）"
    assert fix_text("合计1700元") == "合计1700元"
    assert fix_text("打开 Telegram (电报)") == "打开 Telegram（电报）"
    assert fix_text("Only English, here: yes") == "Only English, here: yes"
    assert clause_id("四(一) and 三(二)") == "四（一） and 三（二）"
