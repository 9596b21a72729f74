"""Pure eligibility evaluation: a household profile against the benefit rules, in three-valued logic."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from content.benefits import (
    FACT_DOMAINS,
    LANGUAGES,
    VAGUE_VALUES,
    AmountPeriod,
    AnyOf,
    Benefit,
    Condition,
    Education,
    FactIs,
    Later,
    PlanKind,
    RuleSet,
    SchoolType,
    Text,
    first_error,
)

MIN_GRADUATION_YEAR = 1950

# ---------------------------------------------------------------- the profile


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Household(_Section):
    """Facts about the household; None means not known."""

    registered_poor: bool | None = None
    rural: bool | None = None


class Person(_Section):
    """Facts about the person; None means not known."""

    age: int | None = Field(default=None, ge=0, le=120)
    able_to_work: bool | None = None
    household_child: bool | None = (
        None  # a son or daughter (子女) of the household: 四（三） names 贫困户子女
    )
    education: Education | None = None
    continued_study: bool | None = None
    graduation_year: int | None = Field(default=None, ge=MIN_GRADUATION_YEAR)

    @field_validator("graduation_year")
    @classmethod
    def _not_in_future(cls, year: int | None, info: ValidationInfo) -> int | None:
        as_of = (info.context or {}).get("as_of") or date.today()
        if year is not None and year > as_of.year:
            raise ValueError(f"must not be after {as_of.year}")
        return year


class Plan(_Section):
    """Facts about what the person does or plans; None means not known."""

    kind: PlanKind | None = None
    school_type: SchoolType | None = None
    full_time: bool | None = None
    formal_enrollment: bool | None = None
    study_year: int | None = Field(default=None, ge=1, le=6)
    employed_at_pilot_firm: bool | None = None
    has_business_project: bool | None = None


class Profile(_Section):
    """What is known about a person and household; every fact is optional."""

    household: Household = Field(default_factory=Household)
    person: Person = Field(default_factory=Person)
    plan: Plan = Field(default_factory=Plan)

    def facts(self) -> dict[str, Any]:
        """The known facts by dotted name, e.g. {"plan.full_time": True}."""
        known = {}
        for section in ("household", "person", "plan"):
            for name, value in getattr(self, section).model_dump().items():
                if value is not None:
                    known[f"{section}.{name}"] = value
        return known

    def with_fact(self, name: str, value: Any) -> Profile:
        """A copy with one fact set (validated)."""
        section, field = name.split(".")
        data = self.model_dump()
        data[section][field] = value
        return Profile.model_validate(data, context={"as_of": date.max})


class ProfileError(ValueError):
    """An invalid profile; `field` names the offending fact."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def parse_profile(data: object, as_of: date) -> Profile:
    """Validate raw data (e.g. parsed JSON) into a Profile, or raise ProfileError naming the field."""
    try:
        profile = Profile.model_validate(data, context={"as_of": as_of})
    except ValidationError as exc:
        field, message = first_error(exc)
        if message.startswith("Input should be a valid dictionary"):
            message = "must be an object"
        got = exc.errors()[0].get("input")
        if isinstance(got, str | int | float | bool) and message != "unknown field":
            message += f" (got {got!r})"
        raise ProfileError(field or "profile", message) from None
    return profile


def _check_dates(profile: Profile, as_of: date) -> None:
    """Facts that depend on the date: no graduation after as_of."""
    year = profile.person.graduation_year
    if year is not None and year > as_of.year:
        raise ProfileError("person.graduation_year", f"must not be after {as_of.year}")


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Note:
    """A reason or caveat: machine code and params, and the rendered text per language."""

    code: str
    params: Mapping[str, Any]
    text: Mapping[str, str]


@dataclass(frozen=True)
class BenefitResult:
    """One benefit on one day: its state, and the verdict True, False, or None (unknown, see `missing`).

    state: in_force (the 2017 rule applies: the verdict is the rule's), ended (nothing carries it on: False),
    continued (a later document carries it on: `later` names it; False when it cannot be for this person,
    otherwise None: ask), unknown (nobody told us what applies now: ask), not_yet (before the notice).
    """

    id: str
    eligible: bool | None
    amount_cny_per_year: int | None
    amount_is_maximum: bool | None
    reasons: tuple[Note, ...]
    missing: tuple[str, ...]
    source: str
    state: str = "in_force"
    amount_source: str | None = None  # the document that states the amount
    ended_on: date | None = None  # the last day of the 2017 measure, once it is over
    later: Later | None = None  # what applies now, after the 2017 measure
    form: str = "cash"  # cash, waiver (nothing paid out) or service


@dataclass(frozen=True)
class Result:
    """All benefits in rule order, the yearly cash total of eligible ones, caveats and goals met.

    `history` is the same evaluation on the last day of the 2017 action when `as_of` comes after it:
    what the family could have received then, shown after what it may ask for now.
    """

    as_of: date
    county: str | None
    benefits: tuple[BenefitResult, ...]
    annual_total_cny: int
    caveats: tuple[Note, ...]
    goals: Mapping[str, bool | None]
    history: Result | None = None

    def benefit(self, benefit_id: str) -> BenefitResult:
        """The result for one benefit id."""
        return next(result for result in self.benefits if result.id == benefit_id)


# ---------------------------------------------------------------- three-valued logic


def _value(condition: Condition, facts: Mapping[str, Any]) -> bool | None:
    """True, False, or None when missing facts leave it open (Kleene logic)."""
    if isinstance(condition, FactIs):
        actual = facts.get(condition.field)
        vague = VAGUE_VALUES.get(condition.field, {}).get(actual)
        if vague:  # "one of these": true if all are accepted, false if none, else unknown
            accepted = [value in condition.values for value in vague]
            return True if all(accepted) else (None if any(accepted) else False)
        return None if actual is None else actual in condition.values
    values = [_value(item, facts) for item in condition.items]
    decisive = isinstance(condition, AnyOf)  # True decides an OR, False decides an AND
    if decisive in values:
        return decisive
    return None if None in values else not decisive


def _leaves(condition: Condition, facts: Mapping[str, Any]) -> list[FactIs]:
    """The leaf conditions that explain the node's value (for None: the open ones)."""
    value = _value(condition, facts)
    if isinstance(condition, FactIs):
        return [condition]
    return [leaf for item in condition.items if _value(item, facts) is value for leaf in _leaves(item, facts)]


# ---------------------------------------------------------------- evaluation


def action_end(rules: RuleSet) -> date:
    """The last day of the 2017 action: the latest end of its benefits."""
    return max(benefit.effective_to or date.max for benefit in rules.benefits)


def evaluate(profile: Profile, rules: RuleSet, as_of: date, county: str | None = None) -> Result:
    """Evaluate every benefit for the profile on `as_of` (no I/O); after the action, also as it was then."""
    _check_dates(profile, as_of)
    end = action_end(rules)
    history = _evaluate_on(profile.facts(), rules, end, county, None) if as_of > end else None
    return _evaluate_on(profile.facts(), rules, as_of, county, history)


def _evaluate_on(
    facts: Mapping[str, Any], rules: RuleSet, as_of: date, county: str | None, history: Result | None
) -> Result:
    """One day's evaluation of known facts (the history uses the same facts, whatever happened since)."""
    results = tuple(_evaluate_benefit(benefit, rules, facts, as_of, county) for benefit in rules.benefits)
    goals = {
        goal.id: _value(goal.conditions, facts) if goal.in_force(as_of) else False for goal in rules.goals
    }
    caveats = _caveats(rules, results, as_of, goals)
    return Result(as_of, county, results, cash_total(results, rules), caveats, goals, history)


def cash_total(results: tuple[BenefitResult, ...], rules: RuleSet) -> int:
    """Cash paid per year to the eligible: waivers (nothing paid out) and unknown amounts left out."""
    return sum(result.amount_cny_per_year or 0 for result in _yearly_cash(results, rules))


def relevant_facts(profile: Profile, rules: RuleSet, as_of: date, county: str | None = None) -> set[str]:
    """Absent facts whose answer could still change a verdict (now, or then after the action) or an amount."""
    relevant: set[str] = set()
    result: Result | None = evaluate(profile, rules, as_of, county)
    while result is not None:
        for benefit in result.benefits:
            relevant.update(benefit.missing)
            if any(reason.code == "years_only" for reason in benefit.reasons):
                relevant.add("plan.study_year")
        result = result.history
    return relevant - set(profile.facts())  # a vague answer ("training") is not asked again


def _evaluate_benefit(
    benefit: Benefit, rules: RuleSet, facts: Mapping[str, Any], as_of: date, county: str | None
) -> BenefitResult:
    """One benefit's state, verdict, amount and reasons."""
    if as_of < benefit.effective_from:
        return _decided_false(benefit, _not_in_force_note(rules, benefit, as_of), state="not_yet")
    if not benefit.in_force(as_of):
        return _after_the_measure(benefit, rules, facts, as_of, county)
    eligible = _value(benefit.conditions, facts)
    leaves = _leaves(benefit.conditions, facts)
    reasons = [_condition_note(rules, leaf, facts) for leaf in leaves]
    period = _period(rules, benefit, as_of, county)
    study_year = facts.get("plan.study_year")
    if period and period.years and study_year is not None and study_year not in period.years:
        not_paid = _years_note(rules, "year_not_covered", period, study_year)
        return _decided_false(benefit, *(reasons if eligible is False else []), not_paid)
    if period and period.years and study_year is None and eligible is not False:
        reasons.append(_years_note(rules, "years_only", period))
    return BenefitResult(
        id=benefit.id,
        eligible=eligible,
        amount_cny_per_year=period.cny_per_year if period else None,
        amount_is_maximum=period.is_maximum if period else None,
        reasons=tuple(reasons + _amount_notes(rules, benefit, period)),
        missing=tuple(dict.fromkeys(leaf.field for leaf in leaves)) if eligible is None else (),
        source=benefit.source.cite(),
        amount_source=period.source if period else None,
        form=_form(benefit),
    )


def _form(benefit: Benefit) -> str:
    return "waiver" if benefit.waiver else ("cash" if benefit.cash else "service")


def _decided_false(benefit: Benefit, *reasons: Note, state: str = "in_force") -> BenefitResult:
    """Not eligible for a reason outside the conditions (dates, study year); no amount applies."""
    return BenefitResult(
        benefit.id, False, None, None, reasons, (), benefit.source.cite(), state=state, form=_form(benefit)
    )


def _after_the_measure(
    benefit: Benefit, rules: RuleSet, facts: Mapping[str, Any], as_of: date, county: str | None
) -> BenefitResult:
    """After the 2017 measure: ended, continued under a later document, or unknown (ask)."""
    later = rules.later_on(benefit.id, as_of, county)
    state = later.state if later else "ended"
    conditions = (later.conditions if later else None) or benefit.conditions
    fits = _value(conditions, facts)
    # A later rule we do not hold gives "ask" (None), never "yes".
    eligible = False if state == "ended" or fits is False else (fits if state == "in_force" else None)
    missing = tuple(dict.fromkeys(leaf.field for leaf in _leaves(conditions, facts))) if fits is None else ()
    amount = later.cny_per_year if later and eligible is not False else None
    return BenefitResult(
        id=benefit.id,
        eligible=eligible,
        amount_cny_per_year=amount,
        amount_is_maximum=False if amount is not None else None,
        reasons=(_state_note(rules, benefit, later, as_of),),
        missing=missing if state != "ended" else (),
        source=benefit.source.cite(),
        state=state,
        amount_source=later.document if amount is not None and later else None,
        ended_on=benefit.effective_to,
        later=later,
        form=_form(benefit),
    )


def _state_note(rules: RuleSet, benefit: Benefit, later: Later | None, as_of: date) -> Note:
    """In words: ended (when), continued (by what, how much, where to ask) or unknown (where to ask)."""
    end = benefit.effective_to or as_of
    if later is None or later.state == "ended":
        return _note(rules, "state_ended", {"ended_on": end.isoformat()}, {"ended_on": _date_text(end)})
    place = rules.texts.places[later.ask or ""]
    if later.state == "unknown":
        return _note(rules, "state_unknown", {"place": later.ask}, {"place": place})
    params = {"document": later.document, "place": later.ask, "amount": later.cny_per_year}
    display = {
        "name": later.name or benefit.name,
        "amount": _amount_text(rules, later.cny_per_year),
        "place": place,
    }
    return _note(rules, "state_continued", params, display)


def _date_text(day: date) -> dict[str, str]:
    """A date as people write it: 2017年7月21日, 21 July 2017."""
    return {"zh_Hans": f"{day.year}年{day.month}月{day.day}日", "en": f"{day.day} {day:%B} {day.year}"}


def _start_text(period: AmountPeriod) -> dict[str, str]:
    """When an amount starts: a period from 1 January shows its year alone (only the year is known)."""
    day = period.effective_from
    if (day.month, day.day) == (1, 1):
        return {"zh_Hans": f"{day.year}年", "en": str(day.year)}
    return _date_text(day)


def _amount_text(rules: RuleSet, cny: int | None) -> dict[str, str]:
    """An amount per year, or "ask" when it is not known."""
    if cny is None:
        return rules.texts.amount_ask.model_dump()
    return {"zh_Hans": f"每年{cny}元", "en": f"{cny:,} yuan a year"}


def _period(rules: RuleSet, benefit: Benefit, as_of: date, county: str | None) -> AmountPeriod | None:
    """The amount period in force, for cash benefits."""
    return rules.amount_on(benefit.id, as_of, county) if benefit.cash else None


def _yearly_cash(results: tuple[BenefitResult, ...], rules: RuleSet) -> list[BenefitResult]:
    """Eligible benefits paid out in cash per year (a waiver is not paid out)."""
    per_year = {
        benefit.id for benefit in rules.benefits if benefit.period == "per_year" and not benefit.waiver
    }
    return [result for result in results if result.eligible is True and result.id in per_year]


# ---------------------------------------------------------------- notes


def _note(
    rules: RuleSet, code: str, params: Mapping[str, Any], display: Mapping[str, Any] | None = None
) -> Note:
    """Message `code` rendered in every language; `display` (Text or per-language dicts) overrides params."""
    values = {**params, **(display or {})}
    template = rules.texts.messages[code]
    text = {
        lang: template.get(lang).format(**{key: _in(lang, value) for key, value in values.items()})
        for lang in LANGUAGES
    }
    return Note(code, dict(params), text)


def _in(lang: str, value: Any) -> Any:
    """A display value in one language."""
    if isinstance(value, Text):
        return value.get(lang)
    return value[lang] if isinstance(value, dict) else value


def _not_in_force_note(rules: RuleSet, benefit: Benefit, as_of: date) -> Note:
    """The benefit does not apply on this date."""
    end = benefit.effective_to
    params = {
        "effective_from": benefit.effective_from.isoformat(),
        "as_of": as_of.isoformat(),
        "effective_to": end.isoformat() if end else None,
    }
    display = {
        "effective_from": _date_text(benefit.effective_from),
        "as_of": _date_text(as_of),
        "effective_to": _date_text(end) if end else rules.texts.open_end,
    }
    return _note(rules, "not_in_force", params, display)


def _condition_note(rules: RuleSet, leaf: FactIs, facts: Mapping[str, Any]) -> Note:
    """A ✓/✗/? note about one condition."""
    actual = facts.get(leaf.field)
    code = "cond_unknown" if actual is None else ("cond_met" if actual in leaf.values else "cond_unmet")
    params = {"field": leaf.field, "expected": list(leaf.values), "actual": actual}
    texts = rules.texts.facts[leaf.field]
    expected = _joined(rules, [_label(rules, leaf.field, value) for value in leaf.values], "or_joiner")
    need = texts.need or texts.label
    display = {
        "fact": texts.label,
        "need": {lang: need.get(lang).format(expected=expected[lang]) for lang in LANGUAGES},
        "expected": expected,
        "actual": _label(rules, leaf.field, actual),
    }
    return _note(rules, code, params, display)


def _label(rules: RuleSet, field: str, value: Any) -> dict[str, str]:
    """How a fact's value reads in each language."""
    texts = rules.texts
    if isinstance(value, bool):
        return (texts.value_yes if value else texts.value_no).model_dump()
    if isinstance(FACT_DOMAINS[field], tuple) and value is not None:
        return texts.facts[field].values[value].model_dump()
    return dict.fromkeys(LANGUAGES, str(value))


def _joined(rules: RuleSet, labels: list[dict[str, str]], joiner: str) -> dict[str, str]:
    """Labels joined per language with the `or_joiner` or `list_joiner` text."""
    glue: Text = getattr(rules.texts, joiner)
    return {lang: glue.get(lang).join(label[lang] for label in labels) for lang in LANGUAGES}


def _years_note(rules: RuleSet, code: str, period: AmountPeriod, study_year: int | None = None) -> Note:
    """A note on the study years an amount is paid in."""
    params = {"years": period.years, "source": period.years_source or period.source, "study_year": study_year}
    return _note(rules, code, params, {"years": _years_label(rules, period.years or [])})


def _years_label(rules: RuleSet, years: list[int]) -> dict[str, str]:
    """Study years per language, e.g. '1、2' and '1, 2'."""
    return _joined(rules, [dict.fromkeys(LANGUAGES, str(year)) for year in years], "list_joiner")


def _amount_notes(rules: RuleSet, benefit: Benefit, period: AmountPeriod | None) -> list[Note]:
    """Notes on what the benefit pays."""
    if not benefit.cash:
        return [_note(rules, "non_cash", {"benefit": benefit.id}, {"summary": benefit.summary})]
    if period is None:
        return []
    params = {
        "period": benefit.period,
        "source": period.source,
        "cny": period.cny_per_year,
        "effective_from": period.effective_from.isoformat(),
    }
    display = {"period": rules.texts.periods[benefit.period or "once"], "effective_from": _start_text(period)}
    code = (
        "amount_local"
        if period.cny_per_year is None
        else "amount_up_to"
        if period.is_maximum
        else "amount_fixed"
    )
    notes = [_note(rules, code, params, display)]
    if period.note:
        notes.append(_note(rules, "amount_note", {"benefit": benefit.id}, {"note": period.note}))
    if period.mark == "local":
        notes.append(_note(rules, "county_override", {"county": _county_of(rules, benefit, period)}))
    return notes


def _county_of(rules: RuleSet, benefit: Benefit, period: AmountPeriod) -> str:
    """The county whose override holds `period`."""
    return next(
        county for county, amounts in rules.overrides.items() if period in amounts.get(benefit.id, [])
    )


def _caveats(
    rules: RuleSet, results: tuple[BenefitResult, ...], as_of: date, goals: Mapping[str, bool | None]
) -> tuple[Note, ...]:
    """Dated caveats, goals met, stacking and remarks on the total."""
    notes = [
        Note(f"caveat.{caveat.id}", {"sources": caveat.sources}, caveat.text.model_dump())
        for caveat in rules.caveats
        if caveat.shown_on(as_of)
    ]
    notes += [
        Note(f"goal.{goal.id}", {"source": goal.source.cite()}, goal.text.model_dump())
        for goal in rules.goals
        if goals[goal.id] is True
    ]
    eligible = {result.id for result in results if result.eligible is True}
    stacked = [benefit_id for benefit_id in rules.stacking.benefits if benefit_id in eligible]
    if len(stacked) >= 2:
        params = {"benefits": stacked, "sources": rules.stacking.sources}
        notes.append(Note("stacking", params, rules.stacking.text.model_dump()))
    return tuple(notes + _total_notes(rules, results))


def _total_notes(rules: RuleSet, results: tuple[BenefitResult, ...]) -> list[Note]:
    """Remarks on what the annual total includes and leaves out."""
    counted = [result for result in _yearly_cash(results, rules) if result.amount_cny_per_year is not None]
    notes = [_note(rules, "total_is_maximum", {})] if any(r.amount_is_maximum for r in counted) else []
    local = [
        result.id
        for result in results
        if result.eligible is True and result.form == "cash" and result.amount_cny_per_year is None
    ]
    if local:
        names = _joined(
            rules, [rules.benefit(benefit_id).name.model_dump() for benefit_id in local], "list_joiner"
        )
        notes.append(_note(rules, "total_excludes_local", {"benefits": local}, {"names": names}))
    for result in counted:
        for years in [reason.params["years"] for reason in result.reasons if reason.code == "years_only"]:
            display = {"name": rules.benefit(result.id).name, "years": _years_label(rules, years)}
            notes.append(_note(rules, "total_assumes_years", {"benefit": result.id, "years": years}, display))
    return notes
