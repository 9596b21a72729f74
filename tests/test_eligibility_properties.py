"""Properties of the evaluator over generated profiles and dates."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from content.benefits import FACT_DOMAINS, VAGUE_VALUES, load_rules
from content.eligibility import Profile, ProfileError, Result, evaluate, parse_profile, relevant_facts

INT_RANGES = {"person.age": (0, 120), "person.graduation_year": (1950, None), "plan.study_year": (1, 6)}
DAYS = st.dates(min_value=date(2016, 1, 1), max_value=date(2027, 12, 31))


def _values(name: str, as_of: date) -> st.SearchStrategy[Any]:
    """Valid values of one fact on `as_of`."""
    domain = FACT_DOMAINS[name]
    if domain is bool:
        return st.booleans()
    if isinstance(domain, tuple):
        return st.sampled_from(domain)
    low, high = INT_RANGES[name]
    return st.integers(low, high if high is not None else as_of.year)


@st.composite
def profiles(draw: st.DrawFn) -> tuple[Profile, date]:
    """A valid profile (any subset of facts) and a date."""
    as_of = draw(DAYS)
    data: dict[str, dict[str, Any]] = {}
    for name in FACT_DOMAINS:
        if draw(st.booleans()):
            section, field = name.split(".")
            data.setdefault(section, {})[field] = draw(_values(name, as_of))
    return parse_profile(data, as_of), as_of


@st.composite
def profiles_and_new_fact(draw: st.DrawFn) -> tuple[Profile, date, str, Any]:
    """A profile, a date, a fact absent from the profile and a value for it."""
    profile, as_of = draw(profiles())
    absent = sorted(set(FACT_DOMAINS) - set(profile.facts()))
    assume(absent)
    name = draw(st.sampled_from(absent))
    return profile, as_of, name, draw(_values(name, as_of))


def _verdicts(result: Result) -> dict[str, tuple[bool | None, int | None]]:
    """Each benefit's verdict, and its amount unless it is not eligible."""
    return {
        benefit.id: (benefit.eligible, None if benefit.eligible is False else benefit.amount_cny_per_year)
        for benefit in result.benefits
    }


@settings(deadline=None)
@given(profiles())
def test_any_valid_profile_evaluates_deterministically(drawn: tuple[Profile, date]) -> None:
    """Evaluation succeeds, covers all benefits, and gives the same result twice."""
    profile, as_of = drawn
    rules = load_rules()
    first = evaluate(profile, rules, as_of)
    assert first == evaluate(profile, rules, as_of)
    assert [benefit.id for benefit in first.benefits] == [benefit.id for benefit in rules.benefits]
    facts = profile.facts()
    vague = {fact for fact, value in facts.items() if value in VAGUE_VALUES.get(fact, {})}
    for benefit in first.benefits:
        if benefit.state == "in_force":  # after the measure, None means "ask": no fact would decide it
            assert bool(benefit.missing) == (benefit.eligible is None)
        else:
            assert benefit.eligible is not True or benefit.state == "in_force"
        assert set(benefit.missing) <= (set(FACT_DOMAINS) - set(facts)) | vague
    assert first.annual_total_cny >= 0


@settings(deadline=None)
@given(profiles_and_new_fact())
def test_adding_a_fact_never_undecides(drawn: tuple[Profile, date, str, Any]) -> None:
    """A decided verdict stays decided; only the study year may change one (years 1-2 rule)."""
    profile, as_of, name, value = drawn
    rules = load_rules()
    before = _verdicts(evaluate(profile, rules, as_of))
    after = _verdicts(evaluate(profile.with_fact(name, value), rules, as_of))
    for benefit_id, (verdict, _) in before.items():
        if verdict is not None:
            assert after[benefit_id][0] is not None, (benefit_id, name, value)
            if name != "plan.study_year":
                assert after[benefit_id][0] == verdict, (benefit_id, name, value)


@settings(deadline=None)
@given(profiles())
def test_relevant_facts_are_absent_facts(drawn: tuple[Profile, date]) -> None:
    """relevant_facts only lists facts the profile does not have."""
    profile, as_of = drawn
    relevant = relevant_facts(profile, load_rules(), as_of)
    assert relevant <= set(FACT_DOMAINS) - set(profile.facts())


@settings(deadline=None)
@given(profiles_and_new_fact())
def test_skipping_an_irrelevant_fact_changes_nothing(drawn: tuple[Profile, date, str, Any]) -> None:
    """Answering a question that relevant_facts left out changes no verdict, nor the amount of a benefit
    that may still be paid."""
    profile, as_of, name, value = drawn
    rules = load_rules()
    if name in relevant_facts(profile, rules, as_of):
        return
    before = _verdicts(evaluate(profile, rules, as_of))
    assert _verdicts(evaluate(profile.with_fact(name, value), rules, as_of)) == before


BAD_VALUES = st.sampled_from(
    [
        ("person.age", -1),
        ("person.age", 121),
        ("person.age", "20"),
        ("person.age", True),
        ("person.age", 20.0),
        ("person.graduation_year", 1949),
        ("person.graduation_year", 2100),
        ("plan.study_year", 0),
        ("plan.study_year", 7),
        ("plan.full_time", "true"),
        ("plan.full_time", 1),
        ("household.registered_poor", "yes"),
        ("plan.kind", "university"),
        ("person.education", ""),
        ("person.shoe_size", 40),
    ]
)


@settings(deadline=None)
@given(BAD_VALUES, DAYS)
def test_impossible_values_are_rejected_naming_the_field(bad: tuple[str, Any], as_of: date) -> None:
    """Wrong types, impossible values and unknown fields raise ProfileError naming the field."""
    name, value = bad
    section, field = name.split(".")
    with pytest.raises(ProfileError) as caught:
        parse_profile({section: {field: value}}, as_of)
    assert caught.value.field == name
    assert name in str(caught.value)
