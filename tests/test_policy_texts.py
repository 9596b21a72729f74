"""What the household reads: no invented dates or promises, the ended action said as ended, plain dates and
amounts (REVIEW-2026-12 sections a, b and e), in the catalogs and rules this part of the bot owns."""

from __future__ import annotations

import re

import pytest

from content.benefits import load_rules
from content.i18n import Translator

OWNED = ("explain.", "check.", "core.", "hr.reminder", "intake.")
FORBIDDEN = (
    "各地自己定",  # 四（三）/（四） name provincial documents
    "可以免费上",  # 二 states a goal
    "会来问",  # the bot cannot promise visits
    "会按您选的时间打电话",
    "联系您吗",  # the intake forwards wishes; it cannot promise calls
    "会打这个电话",
    "会在您说的时间打电话",
    "盯着",
    "现在叫雨露计划",  # present tense about the transition
    "没收到今天的日期",
    "现在不叫“建档立卡贫困户”了",
    "在河南是一起发给",  # a waiver is not "paid"
    "施行期",
    "1,700",  # one way to write amounts: 1700元
)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _chinese_texts() -> list[tuple[str, str]]:
    messages = Translator("zh_Hans").messages
    found = [(key, text) for key, text in messages.items() if key.startswith(OWNED) and isinstance(text, str)]
    rules = load_rules()
    for benefit in rules.benefits:
        found += [(benefit.id, benefit.summary.zh_Hans), (benefit.id, benefit.apply_at.zh_Hans)]
        found += [(benefit.id, line) for line in benefit.prepare.zh_Hans]
    found += [(caveat.id, caveat.text.zh_Hans) for caveat in rules.caveats]
    found += [(goal.id, goal.text.zh_Hans) for goal in rules.goals]
    found += [(code, text.zh_Hans) for code, text in rules.texts.messages.items()]
    return found


@pytest.mark.parametrize("phrase", FORBIDDEN)
def test_no_invented_facts_promises_or_stale_present_tense(phrase):
    assert not [key for key, text in _chinese_texts() if phrase in text]


def test_no_iso_dates_in_household_texts():
    assert not [(key, text) for key, text in _chinese_texts() if ISO_DATE.search(text)]


@pytest.mark.parametrize(
    "page", ["training", "apprentice", "parttime", "zhigao", "order_job", "priority", "adult"]
)
def test_pages_about_2017_rules_say_the_action_has_ended(page):
    text = Translator("zh_Hans").messages[f"explain.{page}.body"]
    assert "2017年" in text and "已经结束" in text


def test_technical_school_is_defined_once_then_called_jixiao():
    messages = Translator("zh_Hans").messages
    defined = [key for key, text in messages.items() if "技工院校（简称技校）" in str(text)]
    assert sorted(defined) == ["check.help.plan", "explain.what.body"]  # once per flow
    long_name = [
        key
        for key, text in messages.items()
        if key.startswith(("explain.", "check.")) and "技工院校" in str(text)
    ]
    assert sorted(long_name) == ["check.help.plan", "explain.what.body"]
