"""A digest's text, spreadsheet and chart, built from outbox payloads; pure functions, no I/O.

Names are shown (HR calls people by name); every personal number is masked again here, whatever
the payload holds, so a full ID or phone number can never reach a chat.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from content.i18n import Translator
from storage.crypto import mask_household_number, mask_id, mask_phone
from storage.exports.chart import draw_wishes_chart
from storage.exports.xlsx import Column, write_xlsx

MAX_TEXT = 4000  # Telegram takes 4096 UTF-16 units; the rest is slack (the default of `fitting`)
CHINA_HOURS = 8  # HR reads China Standard Time, which has no daylight saving
WIDEST_NUMBER = 10**10 - 1  # fitting is done with the widest digest number, so the real one fits too
KINDS = ("technical_school", "vocational_training", "apprenticeship", "entrepreneurship")
OTHER_TRADE = "other:"


@dataclass(frozen=True)
class Entry:
    """One record of a digest, as HR sees it."""

    record_id: int
    version: int
    village: str
    kind: str
    wish: dict[str, Any]
    member: dict[str, Any]
    household: dict[str, Any]
    submitted_at: str

    @property
    def township(self) -> str:
        """The township's code: the first 9 digits of the village code."""
        return self.village[:9]

    @property
    def ref(self) -> str:
        """How HR refers to the record: its id, and its version when updated."""
        return str(self.record_id) if self.version <= 1 else f"{self.record_id}-{self.version}"


def entry(payload: str) -> Entry:
    """An entry from an outbox payload (JSON written by storage.repositories.intake_records)."""
    data = json.loads(payload)
    wish = data.get("wish") or {}
    return Entry(
        record_id=int(data["record_id"]),
        version=int(data.get("version") or 1),
        village=str(data.get("village_code") or ""),
        kind=str(wish.get("kind") or ""),
        wish=wish,
        member=data.get("member") or {},
        household=data.get("household") or {},
        submitted_at=str(data.get("submitted_at") or ""),
    )


def utf16_length(text: str) -> int:
    """Length as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


# ---------------------------------------------------------------- labels


def label(t: Translator, key: str, default: str) -> str:
    """The catalog text of `key`, or `default` when the catalogs have no such key."""
    return t.text(key) if key in t.messages or key in t.fallback else default


def value_label(t: Translator, field: str, value: Any) -> str:
    """A coded value (sex, relation, kind, ...) in words; unknown codes as they are."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return t.text("delivery.yes") if value else t.text("delivery.no")
    return label(t, f"delivery.v.{field}.{value}", str(value))


def trade_label(t: Translator, trade: str | None) -> str:
    """A trade: what the person typed for "other:...", otherwise its label."""
    if not trade:
        return ""
    if trade.startswith(OTHER_TRADE):
        return trade.removeprefix(OTHER_TRADE).strip()
    return value_label(t, "trade", trade)


def place(t: Translator, item: Entry, names: dict[str, str]) -> str:
    """Township and village names (codes when unknown)."""
    township = names.get(item.township, item.township)
    return t.text("delivery.place", {"township": township, "village": names.get(item.village, item.village)})


def china_time(moment: datetime) -> str:
    """A moment as HR's wall clock shows it."""
    return moment.astimezone(timezone(timedelta(hours=CHINA_HOURS))).strftime("%Y-%m-%d %H:%M")


# ---------------------------------------------------------------- text


@dataclass(frozen=True)
class Heading:
    """What a digest's text says about itself."""

    number: int
    county: str
    when: datetime


def counts(entries: Iterable[Entry]) -> dict[str, dict[str, int]]:
    """Records by township code and kind of wish, townships in code order."""
    found: dict[str, dict[str, int]] = {}
    for item in sorted(entries, key=lambda e: e.township):
        by_kind = found.setdefault(item.township, {})
        by_kind[item.kind] = by_kind.get(item.kind, 0) + 1
    return found


def kinds_of(entries: Iterable[Entry]) -> list[str]:
    """The kinds present, known ones in their usual order first."""
    present = {item.kind for item in entries}
    return [k for k in KINDS if k in present] + sorted(present - set(KINDS))


def render_text(t: Translator, heading: Heading, entries: Sequence[Entry], names: dict[str, str]) -> str:
    """The digest message: title, counts by township and kind, then one short line per record."""
    parts = [
        t.text(
            "delivery.title", {"county": names.get(heading.county, heading.county), "number": heading.number}
        ),
        t.text("delivery.summary", {"n": len(entries), "when": china_time(heading.when)}),
        "",
        t.text("delivery.by_township"),
        *_count_lines(t, entries, names),
        "",
        t.text("delivery.list_title"),
        *(_record_line(t, index, item, names) for index, item in enumerate(entries, 1)),
        "",
        t.text("delivery.footer"),
    ]
    return "\n".join(parts)


def _count_lines(t: Translator, entries: Sequence[Entry], names: dict[str, str]) -> list[str]:
    """One line per township: its name and its count of each kind."""
    separator = t.text("delivery.list_separator")
    lines = []
    for township, by_kind in counts(entries).items():
        items = separator.join(
            t.text("delivery.kind_count", {"kind": value_label(t, "kind", kind), "n": by_kind[kind]})
            for kind in kinds_of(entries)
            if kind in by_kind
        )
        lines.append(
            t.text("delivery.township_line", {"township": names.get(township, township), "items": items})
        )
    return lines


def _record_line(t: Translator, index: int, item: Entry, names: dict[str, str]) -> str:
    """A record in short form: name, age, wish, place and the masked numbers."""
    member, household = item.member, item.household
    wish = value_label(t, "kind", item.kind)
    trade = trade_label(t, item.wish.get("trade"))
    details = [
        t.text("delivery.age", {"age": member["age"]}) if member.get("age") is not None else "",
        t.text("delivery.kind_trade", {"kind": wish, "trade": trade}) if trade else wish,
        place(t, item, names),
        t.text("delivery.id_number", {"value": mask_id(member["id_number"])})
        if member.get("id_number")
        else "",
        t.text("delivery.phone", {"value": mask_phone(household["phone"])}) if household.get("phone") else "",
        t.text("delivery.updated") if item.version > 1 else "",
    ]
    text = t.text("delivery.list_separator").join(part for part in details if part)
    return t.text(
        "delivery.line", {"index": index, "ref": item.ref, "name": member.get("name", ""), "details": text}
    )


def fitting(
    entries: Sequence[Entry],
    render: Callable[[Sequence[Entry]], str],
    limit: int = MAX_TEXT,
    fits: Callable[[str], bool] | None = None,
) -> int:
    """How many of the first entries fit in one message (at least one): by the channel's `fits`,
    else within `limit` UTF-16 units."""
    check = fits or (lambda text: utf16_length(text) <= limit)
    count = len(entries)
    while count > 1 and not check(render(entries[:count])):
        count -= 1
    return count


def placeholder_text(t: Translator, number: int) -> str:
    """The short message sent first and edited into the digest."""
    return t.text("delivery.placeholder", {"number": number})


# ---------------------------------------------------------------- files


XLSX_COLUMNS = (
    ("ref", 10), ("township", 14), ("village", 16), ("name", 10), ("relation", 8), ("sex", 6),
    ("age", 6), ("education", 12), ("id_number", 22), ("head_name", 10), ("household_number", 20),
    ("phone", 14), ("kind", 14), ("training_type", 14), ("trade", 14), ("outside_county_ok", 10),
    ("contact_time", 10), ("needs_review", 8), ("submitted_at", 18),
)  # fmt: skip


def xlsx_bytes(t: Translator, entries: Sequence[Entry], names: dict[str, str]) -> bytes:
    """The digest's records as a spreadsheet (numbers masked)."""
    columns = [Column(t.text(f"delivery.col.{name}"), width) for name, width in XLSX_COLUMNS]
    out = io.BytesIO()
    write_xlsx(
        out, columns, (_xlsx_row(t, item, names) for item in entries), sheet_name=t.text("delivery.sheet")
    )
    return out.getvalue()


def _xlsx_row(t: Translator, item: Entry, names: dict[str, str]) -> list[Any]:
    """One spreadsheet row, in XLSX_COLUMNS order."""
    member, household, wish = item.member, item.household, item.wish
    number, phone, id_number = (
        household.get("household_number"),
        household.get("phone"),
        member.get("id_number"),
    )
    return [
        item.ref, names.get(item.township, item.township), names.get(item.village, item.village),
        member.get("name", ""), value_label(t, "relation", member.get("relation")),
        value_label(t, "sex", member.get("sex")), "" if member.get("age") is None else str(member["age"]),
        value_label(t, "education", member.get("education")), mask_id(id_number) if id_number else "",
        household.get("head_name", ""), mask_household_number(number) if number else "",
        mask_phone(phone) if phone else "", value_label(t, "kind", item.kind),
        value_label(t, "training_type", wish.get("training_type")), trade_label(t, wish.get("trade")),
        value_label(t, "outside_county_ok", wish.get("outside_county_ok")),
        value_label(t, "contact_time", wish.get("contact_time")),
        value_label(t, "needs_review", household.get("needs_review")),
        item.submitted_at[:16].replace("T", " "),
    ]  # fmt: skip


def chart_png(t: Translator, heading: Heading, entries: Sequence[Entry], names: dict[str, str]) -> bytes:
    """The counts by township and kind as a stacked bar chart."""
    by_township = {names.get(code, code): by_kind for code, by_kind in counts(entries).items()}
    kinds = [(kind, value_label(t, "kind", kind)) for kind in kinds_of(entries)]
    county = names.get(heading.county, heading.county)
    return draw_wishes_chart(
        by_township, kinds, t.text("delivery.chart_title", {"county": county, "number": heading.number})
    )


def file_name(t: Translator, heading: Heading) -> str:
    """The spreadsheet's file name."""
    return t.text("delivery.xlsx_name", {"county": heading.county, "number": heading.number})
