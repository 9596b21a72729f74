"""Keys the HR side builds at run time exist in both languages; button data stays small and id-only."""

from __future__ import annotations

import pytest

from bot.channels.telegram.hr import parse_command
from bot.features.demo.data import KINDS
from bot.features.hr.buttons import HrPress, is_ours, parse
from bot.features.hr.reminders import SCHEDULE
from bot.features.hr.tables import FULL_HEADERS, value_labels
from content.i18n import load_messages
from content.progress_table import DATES, UNITS
from dialogs.model import LANGUAGES
from storage.repositories.export_rows import FIELDS
from storage.repositories.followup import FOLLOW_UP_STATUSES

STATUSES = ("new", *FOLLOW_UP_STATUSES)


def built_keys() -> set[str]:
    """Every key the HR code puts together from codes."""
    keys = {f"hr.btn.{s}" for s in FOLLOW_UP_STATUSES} | {f"hr.notify.{s}" for s in FOLLOW_UP_STATUSES}
    keys |= {f"hr.v.status.{s}" for s in STATUSES} | {f"hr.v.kind.{k}" for k in KINDS}
    keys |= {f"hr.col.{f}" for f in FIELDS} | set(FULL_HEADERS.values())
    keys |= {f"hr.progress.unit.{u}" for u in UNITS} | {f"hr.progress.date.{d}" for d in DATES}
    return keys | {message for _, _, message in SCHEDULE}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_keys_built_at_run_time_are_translated(lang):
    assert not sorted(built_keys() - set(load_messages(lang)))


def test_value_labels_come_from_the_catalogs():
    from content.i18n import Translator

    labels = value_labels(Translator("zh_Hans"))
    assert labels["sex"] == {"female": "女", "male": "男"} and labels["yes_no"]["true"] == "是"
    assert set(labels["status"]) == set(STATUSES)


def test_button_data_holds_ids_only_and_fits_telegram():
    data = HrPress(a="s", r=2_147_483_647, s="unreachable").pack()
    assert data == "h:s:2147483647:unreachable" and len(data.encode()) <= 64
    assert parse(data) == HrPress(a="s", r=2_147_483_647, s="unreachable")
    assert parse("h:x:1:") is None and parse("h:s:-1:new") is None and parse("h:s:abc:new") is None
    assert (
        is_ours("h:p:2:")
        and is_ours("h")
        and not is_ours("p:1:x")
        and not is_ours(None)
        and not is_ours("hx:1")
    )


def test_commands_are_parsed_with_or_without_the_bot_s_name():
    assert parse_command("/summary") == ("summary", None, "")
    assert parse_command("/Export@Outreach_Bot 410225") == ("export", "Outreach_Bot", "410225")
    assert parse_command("hello /summary") is None


@pytest.mark.parametrize(
    ("column", "field"),
    [
        ("{id: a, headers: {zh_Hans: 甲, en: A}, count: {colour: red}}", "count.colour"),
        ("{id: a, headers: {zh_Hans: 甲}, count: {}}", "headers"),
        ("{id: a, headers: {zh_Hans: 甲, en: A}, sum: [b]}", "sum"),
        ("{id: a, headers: {zh_Hans: 甲, en: A}, count: {}, unit: cows}", "unit"),
        ("{id: a, headers: {zh_Hans: 甲, en: A}}", "count"),
    ],
)
def test_a_broken_progress_layout_names_the_column_and_field(tmp_path, column, field):
    from content.errors import ContentError
    from content.progress_table import load_layout

    path = tmp_path / "table.yaml"
    path.write_text(
        f"version: 1\ntitle: {{zh_Hans: 表, en: Table}}\ncolumns:\n  - {column}\n", encoding="utf-8"
    )
    with pytest.raises(ContentError) as caught:
        load_layout(path)
    assert caught.value.field == field


def test_the_shipped_progress_layout_says_its_columns_are_not_official():
    from content.progress_table import DEFAULT_PATH, load_layout

    assert "NOT public" in DEFAULT_PATH.read_text(encoding="utf-8")
    layout = load_layout()
    assert layout.columns and all(c.headers["zh_Hans"] and c.headers["en"] for c in layout.columns)
