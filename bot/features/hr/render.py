"""Texts and buttons of the HR side, from the `hr` catalogs; personal numbers only ever masked.

Buttons are neutral (bot.features.hr.chat.Button: id + label); each channel draws them its way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.features.hr.buttons import NO_NOTE, PAGE, SET_STATUS, HrPress
from bot.features.hr.chat import Button, Keyboard
from bot.features.hr.tables import CHINA
from content.i18n import Translator
from storage.repositories.followup import FOLLOW_UP_STATUSES, RecordView
from storage.repositories.reports import Summary, Tally

OTHER_TRADE = "other:"
BUTTON_ROWS = ((0, 1, 2), (3, 4))
STATUS_ORDER = ("new", *FOLLOW_UP_STATUSES)  # indexes into FOLLOW_UP_STATUSES: three, then two buttons


def value(t: Translator, field: str, code: object) -> str:
    """A coded value in words; an unknown code as it is, nothing for None."""
    if code is None or code == "":
        return ""
    key = f"hr.v.{field}.{code}"
    return t.text(key) if key in t.messages or key in t.fallback else str(code)


def china_time(moment: datetime | None) -> str:
    """A moment on HR's wall clock."""
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if moment else ""


def trade(t: Translator, code: str | None) -> str:
    """A trade's label, or what the person typed."""
    if code and code.startswith(OTHER_TRADE):
        return code.removeprefix(OTHER_TRADE).strip()
    return value(t, "trade", code)


def _joined(t: Translator, parts: list[str]) -> str:
    """The non-empty parts with the catalog's separator."""
    return t.text("hr.sep").join(part for part in parts if part)


def _wish(t: Translator, view: RecordView) -> str:
    """Kind, training type, trade, outside the county, time to call."""
    outside = {True: t.text("hr.wish.outside_yes"), False: t.text("hr.wish.outside_no")}.get(
        view.outside_county_ok, ""
    )
    time_label = value(t, "contact_time", view.contact_time)
    contact = t.text("hr.wish.contact", {"time": time_label}) if time_label else ""
    parts = [value(t, "kind", view.kind), value(t, "training_type", view.training_type), trade(t, view.trade)]
    return _joined(t, [*parts, outside, contact])


def record_text(t: Translator, view: RecordView, names: Mapping[str, str]) -> str:
    """A record in short form: who, where, masked numbers, the wish, the status (and its note)."""
    age = t.text("hr.record.age", {"age": view.age}) if view.age is not None else ""
    person = _joined(t, [value(t, "sex", view.sex), age, value(t, "relation", view.relation)])
    township, village = view.village_code[:9], view.village_code
    unknown = t.text("hr.record.unknown")
    text = t.text(
        "hr.record",
        {
            "id": view.record_id,
            "name": view.name,
            "person": person,
            "head": view.head_name,
            "place": _joined(t, [names.get(township, township), names.get(village, village)]),
            "id_number": view.id_number or unknown,
            "phone": view.phone or unknown,
            "wish": _wish(t, view),
            "status": value(t, "status", view.status),
            "created": china_time(view.created_at),
        },
    )
    if view.status_note:
        text = f"{text}\n{t.text('hr.record.note', {'note': view.status_note})}"
    return f"{text}\n{t.text('hr.record.not_told')}" if view.household_told is False else text


def status_keyboard(t: Translator, record_id: int) -> Keyboard:
    """The five follow-up buttons of a record, in two rows."""
    return tuple(
        tuple(_status_button(t, record_id, FOLLOW_UP_STATUSES[i]) for i in indexes) for indexes in BUTTON_ROWS
    )


def _status_button(t: Translator, record_id: int, status: str) -> Button:
    """One follow-up button."""
    return Button(HrPress(a=SET_STATUS, r=record_id, s=status).pack(), t.text(f"hr.btn.{status}"))


def note_keyboard(t: Translator, change_id: int) -> Keyboard:
    """The "no note" button after a status was set."""
    return ((Button(HrPress(a=NO_NOTE, r=change_id).pack(), t.text("hr.btn.no_note")),),)


def next_keyboard(t: Translator, page: int) -> Keyboard:
    """The button to the next page of pending records."""
    return ((Button(HrPress(a=PAGE, r=page).pack(), t.text("hr.pending.next")),),)


def summary_text(t: Translator, summary: Summary, names: Mapping[str, str], area: str) -> str:
    """Totals, then counts by township, kind of wish and follow-up status."""
    title = t.text("hr.summary.title", {"area": area})
    if not summary.total.total:
        return "\n".join([title, t.text("hr.summary.empty")])
    townships = {names.get(code, code): n for code, n in sorted(summary.by_township.items())}
    kinds = {value(t, "kind", kind): n for kind, n in sorted(summary.by_kind.items())}
    statuses = {value(t, "status", s): n for s, n in sorted(summary.by_status.items(), key=_status_rank)}
    lines = [title, _totals(t, summary.total), ""]
    lines += _section(t, "hr.summary.by_township", townships)
    lines += _section(t, "hr.summary.by_kind", kinds)
    lines += _section(t, "hr.summary.by_status", statuses)
    return "\n".join(lines).strip()


def _status_rank(item: tuple[str, Tally]) -> int:
    """Statuses in follow-up order, unknown ones last."""
    return STATUS_ORDER.index(item[0]) if item[0] in STATUS_ORDER else len(STATUS_ORDER)


def _totals(t: Translator, tally: Tally) -> str:
    """The overall line."""
    return t.text("hr.summary.totals", {"week": tally.week, "total": tally.total})


def _section(t: Translator, heading: str, tallies: Mapping[str, Tally]) -> list[str]:
    """A heading and one line per name, then a blank line."""
    lines = [t.text(heading)]
    for name, tally in tallies.items():
        lines.append(t.text("hr.summary.line", {"name": name, "week": tally.week, "total": tally.total}))
    return [*lines, ""]


def area_label(t: Translator, prefixes: tuple[str, ...], names: Mapping[str, str]) -> str:
    """The counties of a view by name."""
    return t.text("hr.sep").join(names.get(code, code) for code in prefixes)
