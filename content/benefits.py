"""Benefit rules as data: loading and strict validation of content/policy/benefits.yaml."""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError, model_validator

from content.errors import ContentError

DEFAULT_RULES = Path(__file__).parent / "policy" / "benefits.yaml"
LANGUAGES = ("zh_Hans", "en")

Education = Literal["junior_high_graduate", "senior_high_graduate", "in_school", "other"]
PlanKind = Literal[
    "technical_school",
    "vocational_training",
    "short_training",
    "training",
    "apprenticeship",
    "entrepreneurship",
]
# A value standing for "one of these, not sure which": a condition naming some of them is unknown, not false.
VAGUE_VALUES: dict[str, dict[Any, tuple[Any, ...]]] = {
    "plan.kind": {"training": ("vocational_training", "short_training")},
}
# What a benefit is on a given day (content/eligibility.py): see the README's JSON contract.
STATES = ("in_force", "ended", "continued", "unknown", "not_yet")
SchoolType = Literal["technical_school", "vocational_high", "other"]

# The profile's facts and their values: `bool`, `int`, or the tuple of allowed strings.
FACT_DOMAINS: dict[str, Any] = {
    "household.registered_poor": bool,
    "household.rural": bool,
    "person.age": int,
    "person.able_to_work": bool,
    "person.household_child": bool,
    "person.education": get_args(Education),
    "person.continued_study": bool,
    "person.graduation_year": int,
    "plan.kind": get_args(PlanKind),
    "plan.school_type": get_args(SchoolType),
    "plan.full_time": bool,
    "plan.formal_enrollment": bool,
    "plan.study_year": int,
    "plan.employed_at_pilot_firm": bool,
    "plan.has_business_project": bool,
}

# The messages the evaluator renders, with the placeholders each may use.
MESSAGE_PARAMS: dict[str, frozenset[str]] = {
    "cond_met": frozenset({"fact", "need", "actual", "expected"}),
    "cond_unmet": frozenset({"fact", "need", "actual", "expected"}),
    "cond_unknown": frozenset({"fact", "need", "expected"}),
    "not_in_force": frozenset({"effective_from", "effective_to", "as_of"}),
    "state_ended": frozenset({"ended_on"}),
    "state_continued": frozenset({"document", "name", "amount", "place"}),
    "state_unknown": frozenset({"place"}),
    "year_not_covered": frozenset({"years", "study_year", "source"}),
    "years_only": frozenset({"years", "source"}),
    "amount_up_to": frozenset({"cny", "period", "effective_from", "source"}),
    "amount_fixed": frozenset({"cny", "period", "effective_from", "source"}),
    "amount_local": frozenset({"period", "source"}),
    "amount_note": frozenset({"note"}),
    "county_override": frozenset({"county"}),
    "non_cash": frozenset({"summary"}),
    "total_is_maximum": frozenset(),
    "total_excludes_local": frozenset({"names"}),
    "total_assumes_years": frozenset({"name", "years"}),
}


# ---------------------------------------------------------------- conditions


@dataclass(frozen=True)
class FactIs:
    """A fact equals one of `values`."""

    field: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class AllOf:
    """Every item holds."""

    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    """At least one item holds."""

    items: tuple[Condition, ...]


Condition = FactIs | AllOf | AnyOf


def _parse_items(raw: object, where: str) -> tuple[Condition, ...]:
    """Parse a non-empty list of condition items."""
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{where}: must be a non-empty list")
    return tuple(_parse_item(item, f"{where}[{index}]") for index, item in enumerate(raw))


def _parse_item(raw: object, where: str) -> Condition:
    """Parse one `{fact: value}`, `{fact in: [...]}`, `{any: [...]}` or `{all: [...]}` item."""
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ValueError(f"{where}: must be a mapping with exactly one key")
    ((key, value),) = raw.items()
    if key in ("any", "all"):
        items = _parse_items(value, f"{where}.{key}")
        return AnyOf(items) if key == "any" else AllOf(items)
    name, _, operator = str(key).partition(" ")
    if name not in FACT_DOMAINS:
        raise ValueError(f"{where}: unknown fact {name!r}")
    if operator not in ("", "in", "between"):
        raise ValueError(
            f"{where}: unknown operator {operator!r} (use 'fact: value', 'fact in: [...]' or 'between')"
        )
    if operator == "between":
        value = _between(name, value, where)
    values = value if operator else [value]
    if not isinstance(values, list) or not values:
        raise ValueError(f"{where}: '{key}' needs a non-empty list")
    for candidate in values:
        _check_value(name, candidate, where)
    return FactIs(name, tuple(values))


def _between(name: str, bounds: object, where: str) -> list[int]:
    """'person.age between: [15, 30]' as the list of whole numbers 15..30."""
    if FACT_DOMAINS[name] is not int or not (
        isinstance(bounds, list) and len(bounds) == 2 and all(type(bound) is int for bound in bounds)
    ):
        raise ValueError(f"{where}: 'between' needs a number fact and [lowest, highest]")
    return list(range(bounds[0], bounds[1] + 1))


def _check_value(name: str, value: object, where: str) -> None:
    """Reject a value outside the fact's domain (bools are not ints here)."""
    domain = FACT_DOMAINS[name]
    valid = isinstance(value, str) and value in domain if isinstance(domain, tuple) else type(value) is domain
    if not valid:
        raise ValueError(f"{where}: {value!r} is not a valid value of {name}")


def parse_conditions(raw: object) -> AllOf:
    """Parse a benefit's condition list into one AllOf."""
    if isinstance(raw, AllOf):
        return raw
    return AllOf(_parse_items(raw, ""))


Conditions = Annotated[AllOf, PlainValidator(parse_conditions)]


# ---------------------------------------------------------------- models


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Text(_Model):
    """A short text in every language."""

    zh_Hans: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        """The text in `lang`."""
        return getattr(self, lang)


class TextList(_Model):
    """A list of short texts in every language."""

    zh_Hans: list[str] = Field(min_length=1)
    en: list[str] = Field(min_length=1)


class Source(_Model):
    """A citation: document and clause."""

    document: str = Field(min_length=1)
    clause: str | None = None

    def cite(self) -> str:
        """E.g. '豫人社〔2017〕57号 四（一）'."""
        return f"{self.document} {self.clause}" if self.clause else self.document


class AmountPeriod(_Model):
    """An amount in force for a period; null means "set locally, ask the county HR office"."""

    cny_per_year: int | None = Field(ge=0)
    is_maximum: bool
    effective_from: date
    effective_to: date | None
    source: str = Field(min_length=1)
    mark: Literal["A", "B", "C", "local"]
    years: list[Annotated[int, Field(ge=1, le=6)]] | None = Field(default=None, min_length=1)
    years_source: str | None = None  # the document that says which study years are paid
    note: Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> AmountPeriod:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to: is before effective_from")
        if (self.cny_per_year is None) != (self.mark == "C"):
            raise ValueError("cny_per_year: must be null exactly when mark is C (unknown)")
        return self

    def covers(self, day: date) -> bool:
        """Whether the period is in force on `day`."""
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


def _check_periods(periods: list[AmountPeriod], start: date, end: date | None) -> None:
    """Periods are sorted, do not overlap and lie within [start, end]."""
    previous_end: date | None = None
    for index, period in enumerate(periods):
        ends_late = end is not None and (period.effective_to is None or period.effective_to > end)
        if period.effective_from < start or ends_late:
            raise ValueError(f"amounts[{index}]: lies outside the benefit's effective period")
        if index and (previous_end is None or period.effective_from <= previous_end):
            raise ValueError(f"amounts[{index}]: overlaps the previous period or is out of order")
        previous_end = period.effective_to


class Dated(_Model):
    """Something in force from `effective_from` to `effective_to` (inclusive; null = open)."""

    effective_from: date
    effective_to: date | None

    def in_force(self, day: date) -> bool:
        """Whether it is in force on `day`."""
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


class Later(_Model):
    """What applies after the notice's measure, from a date on: data, so a county or a later notice adds it.

    state: continued (a later document carries it on; its amount, or null = ask), unknown (nobody told us:
    ask), ended (nothing carries it on), in_force (a county still applies the 2017 rule).
    """

    from_: date = Field(alias="from")
    state: Literal["continued", "unknown", "ended", "in_force"]
    document: str | None = None
    name: Text | None = None  # the later programme's name, e.g. 雨露计划+
    cny_per_year: int | None = Field(default=None, ge=0)
    mark: Literal["B", "C", "local"] | None = None
    ask: str | None = None  # a place id of texts.places: where to ask now
    conditions: Conditions | None = (
        None  # who it is for, where the later document says; default: the 2017 rule
    )

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _consistent(self) -> Later:
        if self.state == "continued" and not self.document:
            raise ValueError("document: a continued benefit names the document that continues it")
        if self.state in ("continued", "unknown", "in_force") and not self.ask:
            raise ValueError("ask: say where to ask now (a place of texts.places)")
        if (self.cny_per_year is None) != (self.mark in (None, "C")):
            raise ValueError("mark: an amount needs its mark (B or local), and no amount has none")
        return self


class Benefit(Dated):
    """One benefit of the notice: who qualifies, how much, papers, where to apply, what came after."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: Text
    summary: Text
    source: Source
    cash: bool  # it has an amount (cash, or a waiver when `waiver` is true)
    waiver: bool = False  # nothing is paid out (a tuition waiver): shown apart from the cash total
    period: Literal["per_year", "per_term", "once"] | None
    conditions: Conditions
    amounts: list[AmountPeriod]
    prepare: TextList
    apply_at: Text
    later: list[Later] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Benefit:
        if self.cash != bool(self.amounts) or self.cash != (self.period is not None):
            raise ValueError("cash: a cash benefit needs a period and amounts; a non-cash one has neither")
        if self.waiver and not self.cash:
            raise ValueError("waiver: a waiver has an amount (cash: true)")
        if any(period.mark == "local" for period in self.amounts):
            raise ValueError("amounts: mark 'local' belongs in a county override")
        _check_periods(self.amounts, self.effective_from, self.effective_to)
        _check_later(self.later, self.effective_to)
        return self


def _check_later(entries: list[Later], end: date | None) -> None:
    """Later entries start after the measure ended, in date order."""
    previous = end
    for index, entry in enumerate(entries):
        if previous is None or entry.from_ <= previous:
            raise ValueError(f"later[{index}].from: must come after the measure's end and the entry before")
        previous = entry.from_


class Goal(Dated):
    """A goal of the action that a profile may meet (e.g. 两后生), shown as a caveat."""

    id: str
    source: Source
    conditions: Conditions
    text: Text


class Caveat(_Model):
    """A remark shown for dates between shown_from and shown_to (inclusive; null = open)."""

    id: str
    shown_from: date | None
    shown_to: date | None
    text: Text
    sources: list[str] = Field(min_length=1)

    def shown_on(self, day: date) -> bool:
        """Whether the caveat applies on `day`."""
        starts = self.shown_from is None or self.shown_from <= day
        return starts and (self.shown_to is None or day <= self.shown_to)


class Stacking(_Model):
    """Benefits paid together to the same person."""

    benefits: list[str] = Field(min_length=2)
    text: Text
    sources: list[str] = Field(min_length=1)


class FactText(_Model):
    """How a fact and its values read; `need` says in words what a rule asks of it ("要在技校读书")."""

    label: Text
    need: Text | None = None
    values: dict[str, Text] = Field(default_factory=dict)


class Texts(_Model):
    """Every human text the evaluator renders."""

    value_yes: Text
    value_no: Text
    or_joiner: Text
    list_joiner: Text
    open_end: Text
    amount_ask: Text  # a later amount nobody told us: "ask"
    now_amount: Text  # a benefit as it is called now, with its amount: {name}, {document}, {per}, {amount}
    periods: dict[Literal["per_year", "per_term", "once"], Text]
    places: dict[str, Text] = Field(default_factory=dict)  # where to ask now, by id (Later.ask)
    facts: dict[str, FactText]
    messages: dict[str, Text]

    @model_validator(mode="after")
    def _complete(self) -> Texts:
        _check_fact_texts(self.facts)
        _check_messages(self.messages)
        return self


def _check_fact_texts(facts: dict[str, FactText]) -> None:
    """Every fact has a label, and every allowed string value a label."""
    if set(facts) != set(FACT_DOMAINS):
        raise ValueError(f"facts: must label exactly {sorted(FACT_DOMAINS)}")
    for name, domain in FACT_DOMAINS.items():
        wanted = set(domain) if isinstance(domain, tuple) else set()
        if set(facts[name].values) != wanted:
            raise ValueError(f"facts.{name}.values: must label exactly {sorted(wanted)}")


def _check_messages(messages: dict[str, Text]) -> None:
    """Exactly the known messages, each using only its placeholders."""
    if set(messages) != set(MESSAGE_PARAMS):
        raise ValueError(f"messages: must define exactly {sorted(MESSAGE_PARAMS)}")
    for code, text in messages.items():
        for lang in LANGUAGES:
            used = {name for _, name, _, _ in string.Formatter().parse(text.get(lang)) if name}
            unknown = sorted(used - MESSAGE_PARAMS[code])
            if unknown:
                raise ValueError(f"messages.{code}.{lang}: unknown placeholders {unknown}")


class Notice(_Model):
    """The notice the rules come from."""

    id: str
    title: Text
    issued: date


class RuleSet(_Model):
    """All rules, texts and county overrides, in file order."""

    notice: Notice
    benefits: list[Benefit] = Field(min_length=1)
    stacking: Stacking
    goals: list[Goal]
    caveats: list[Caveat]
    texts: Texts
    overrides: dict[str, dict[str, list[AmountPeriod]]] = Field(default_factory=dict)
    later_overrides: dict[str, dict[str, list[Later]]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _cross_checks(self) -> RuleSet:
        unknown = sorted(set(self.stacking.benefits) - {benefit.id for benefit in self.benefits})
        if unknown:
            raise ValueError(f"stacking.benefits: unknown benefits {unknown}")
        asked = {entry.ask for benefit in self.benefits for entry in benefit.later if entry.ask}
        if asked - set(self.texts.places):
            raise ValueError(f"texts.places: no text for {sorted(asked - set(self.texts.places))}")
        return self

    def later_on(self, benefit_id: str, day: date, county: str | None = None) -> Later | None:
        """What applies to a benefit on `day` after its measure: the county's entry first, then the rules'."""
        local = self.later_overrides.get(county, {}).get(benefit_id, []) if county else []
        for entries in (local, self.benefit(benefit_id).later):
            started = [entry for entry in entries if entry.from_ <= day]
            if started:
                return started[-1]
        return None

    def benefit(self, benefit_id: str) -> Benefit:
        """The benefit with this id (KeyError if there is none)."""
        for benefit in self.benefits:
            if benefit.id == benefit_id:
                return benefit
        raise KeyError(benefit_id)

    def amount_on(self, benefit_id: str, as_of: date, county: str | None = None) -> AmountPeriod | None:
        """The amount period in force on `as_of`, the county's override first."""
        local = self.overrides.get(county, {}).get(benefit_id, []) if county else []
        for period in (*local, *self.benefit(benefit_id).amounts):
            if period.covers(as_of):
                return period
        return None


ModelT = TypeVar("ModelT", bound=BaseModel)


class _CountyFile(_Model):
    county: str = Field(pattern=r"^\d{6}$")
    amounts: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    later: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _not_empty(self) -> _CountyFile:
        if not self.amounts and not self.later:
            raise ValueError("amounts: an override adds amounts or later entries")
        return self


class _LaterEntries(_Model):
    later: list[Later] = Field(min_length=1)


class _Periods(_Model):
    amounts: list[AmountPeriod] = Field(min_length=1)


# ---------------------------------------------------------------- loading


def load_rules(path: str | Path | None = None, overrides: str | Path | None = None) -> RuleSet:
    """Load and validate the rules and county overrides (default: overrides/ beside the rules file)."""
    rules_path = Path(path) if path else DEFAULT_RULES
    override_paths = _override_paths(rules_path, overrides)
    stamps = tuple((str(file), _mtime(file)) for file in (rules_path, *override_paths))
    return _load_cached(stamps)


@functools.lru_cache(maxsize=8)
def _load_cached(stamps: tuple[tuple[str, int], ...]) -> RuleSet:
    """Load the files named in `stamps` (the mtimes only key the cache)."""
    (rules_file, _), *override_stamps = stamps
    rules = _parse_rules(_read_yaml(Path(rules_file)), _display(Path(rules_file)))
    overrides: dict[str, dict[str, list[AmountPeriod]]] = {}
    later: dict[str, dict[str, list[Later]]] = {}
    for override_file, _ in override_stamps:
        shown = _display(Path(override_file))
        raw = _read_yaml(Path(override_file))
        county, amounts = _parse_override(raw, shown, rules)
        if county in overrides:
            raise ContentError(shown, "override", "county", f"{county} is overridden in two files")
        overrides[county] = amounts
        later[county] = _parse_later_override(raw, shown, rules)
    return rules.model_copy(update={"overrides": overrides, "later_overrides": later})


def _override_paths(rules_path: Path, overrides: str | Path | None) -> list[Path]:
    """The override files: a given file, the YAML files of a given directory, or overrides/ if present."""
    location = Path(overrides) if overrides else rules_path.parent / "overrides"
    if location.is_dir():
        return sorted(location.glob("*.yaml"))
    return [] if overrides is None else [location]


def _mtime(file: Path) -> int:
    """The file's modification time, or ContentError if it cannot be read."""
    try:
        return file.stat().st_mtime_ns
    except OSError as exc:
        raise ContentError(_display(file), "file", "-", f"cannot read: {exc.strerror}") from None


def _read_yaml(file: Path) -> Any:
    """Parse one YAML file."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(file.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError(_display(file), "file", "-", f"cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        problem = " ".join(str(exc).split())
        raise ContentError(_display(file), "file", "-", f"invalid YAML: {problem}") from None


def _parse_rules(raw: Any, shown: str) -> RuleSet:
    """Validate the rules file, one benefit at a time so errors name the entry."""
    if not isinstance(raw, dict) or not isinstance(raw.get("benefits"), list):
        raise ContentError(shown, "file", "benefits", "must be a list of benefits")
    benefits = [
        _validate(Benefit, entry, shown, _entry_name(entry, index))
        for index, entry in enumerate(raw["benefits"])
    ]
    ids = [benefit.id for benefit in benefits]
    for benefit_id in ids:
        if ids.count(benefit_id) > 1:
            raise ContentError(shown, f"benefit {benefit_id!r}", "id", "used by two benefits")
    return _validate(RuleSet, {**raw, "benefits": benefits}, shown, None)


def _parse_override(raw: Any, shown: str, rules: RuleSet) -> tuple[str, dict[str, list[AmountPeriod]]]:
    """Validate one county override file against the rules."""
    county_file = _validate(_CountyFile, raw, shown, "override")
    amounts = {}
    for benefit_id, periods in county_file.amounts.items():
        entry = f"benefit {benefit_id!r}"
        if benefit_id not in {benefit.id for benefit in rules.benefits if benefit.cash}:
            raise ContentError(shown, entry, "amounts", f"not a cash benefit of {rules.notice.id}")
        checked = _validate(_Periods, {"amounts": periods}, shown, entry).amounts
        benefit = rules.benefit(benefit_id)
        try:
            if any(period.mark != "local" for period in checked):
                raise ValueError("amounts: an override's mark must be 'local'")
            _check_periods(checked, benefit.effective_from, benefit.effective_to)
        except ValueError as exc:
            raise ContentError(shown, entry, *str(exc).split(": ", 1)) from None
        amounts[benefit_id] = checked
    return county_file.county, amounts


def _parse_later_override(raw: dict[str, Any], shown: str, rules: RuleSet) -> dict[str, list[Later]]:
    """A county's entries of what applies after the 2017 measures (e.g. a current amount and its document)."""
    found = {}
    for benefit_id, entries in (raw.get("later") or {}).items():
        where = f"benefit {benefit_id!r}"
        if benefit_id not in {benefit.id for benefit in rules.benefits}:
            raise ContentError(shown, where, "later", f"not a benefit of {rules.notice.id}")
        checked = _validate(_LaterEntries, {"later": entries}, shown, where).later
        try:
            _check_later(checked, rules.benefit(benefit_id).effective_to)
            unknown = {entry.ask for entry in checked if entry.ask} - set(rules.texts.places)
            if unknown:
                raise ValueError(f"later.ask: no place {sorted(unknown)} in texts.places")
        except ValueError as exc:
            raise ContentError(shown, where, *str(exc).split(": ", 1)) from None
        found[benefit_id] = checked
    return found


def _entry_name(entry: object, index: int) -> str:
    """How an entry is named in messages: its id, or its position."""
    entry_id = entry.get("id") if isinstance(entry, dict) else None
    return f"benefit {entry_id!r}" if isinstance(entry_id, str) else f"benefits[{index}]"


def _validate(model: type[ModelT], raw: Any, shown: str, entry: str | None) -> ModelT:
    """Validate `raw`; the first error becomes a ContentError naming file, entry and field.

    Without an entry, the top-level section (e.g. "texts") names it.
    """
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        field, problem = first_error(exc)
        if entry is None:
            entry, field = _split_entry(raw, field)
        raise ContentError(shown, entry, field or "-", problem) from None


def _split_entry(raw: Any, field: str) -> tuple[str, str]:
    """'caveats[3].text.en' -> ("caveat 'its_id'", 'text.en'); 'texts.yes' -> ('texts', 'yes')."""
    section, index, rest = re.fullmatch(r"([^.\[]*)(?:\[(\d+)\])?\.?(.*)", field).groups()  # always matches
    if index is None:
        return section, rest
    items = raw.get(section) if isinstance(raw, dict) else None
    item = items[int(index)] if isinstance(items, list) and int(index) < len(items) else None
    item_id = item.get("id") if isinstance(item, dict) else None
    return (
        f"{section.removesuffix('s')} {item_id!r}" if isinstance(item_id, str) else f"{section}[{index}]"
    ), rest


def first_error(exc: ValidationError) -> tuple[str, str]:
    """The first error as (field path, message).

    Our validators raise ValueError("<path below the field>: <message>"), so the path is completed here.
    """
    errors = exc.errors(include_url=False)
    error = next((error for error in errors if error["type"] == "extra_forbidden"), errors[0])
    field = format_location(error["loc"])
    if error["type"] == "extra_forbidden":
        return field, "unknown field"
    if error["type"] != "value_error":
        return field, error["msg"]
    below, _, message = str(error["ctx"]["error"]).partition(": ")
    if not message:
        return field, below
    if below.startswith("[") or not field:
        return field + below, message
    return f"{field}.{below}", message


def format_location(loc: tuple[int | str, ...]) -> str:
    """('amounts', 0, 'cny_per_year') -> 'amounts[0].cny_per_year'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _display(file: Path) -> str:
    """The path relative to the working directory when possible."""
    try:
        return str(file.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(file)
