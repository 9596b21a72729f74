"""The eligibility cases of tests/data/eligibility_cases.yaml, one test per case."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from content.benefits import RuleSet, load_rules
from content.eligibility import Result, evaluate, parse_profile

CASES_FILE = Path(__file__).parent / "data" / "eligibility_cases.yaml"
ONE_DAY = timedelta(days=1)


def _table() -> dict[str, Any]:
    """The parsed cases file."""
    return yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))


def _profile_data(case: dict[str, Any], profiles: dict[str, Any]) -> dict[str, Any]:
    """The case's profile: a named base profile with `set` and `unset` applied."""
    profile = case["profile"]
    data = copy.deepcopy(profiles[profile] if isinstance(profile, str) else profile)
    for name, value in case.get("set", {}).items():
        section, field = name.split(".")
        data.setdefault(section, {})[field] = value
    for name in case.get("unset", []):
        section, field = name.split(".")
        data.get(section, {}).pop(field, None)
    return data


def _run(case: dict[str, Any], rules: RuleSet) -> Result:
    """Evaluate one case."""
    profile = parse_profile(_profile_data(case, _table()["profiles"]), case["as_of"])
    return evaluate(profile, rules, case["as_of"], case.get("county"))


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    """The shipped rules (cases name no county, so overrides do not apply)."""
    return load_rules()


@pytest.mark.parametrize("case", _table()["cases"], ids=lambda case: case["id"])
def test_case(case: dict[str, Any], rules: RuleSet) -> None:
    """The evaluation matches every expectation the case states."""
    result = _run(case, rules)
    ids = [benefit.id for benefit in rules.benefits]
    expected = dict(case.get("eligible", {}))
    if "others" in expected:
        others = expected.pop("others")
        expected |= {benefit_id: others for benefit_id in ids if benefit_id not in expected}
    assert {benefit_id: result.benefit(benefit_id).eligible for benefit_id in expected} == expected
    for benefit_id, amount in case.get("amounts", {}).items():
        assert result.benefit(benefit_id).amount_cny_per_year == amount, benefit_id
    for benefit_id, missing in case.get("missing", {}).items():
        assert list(result.benefit(benefit_id).missing) == missing, benefit_id
    if "total" in case:
        assert result.annual_total_cny == case["total"]
    for benefit_id, state in case.get("states", {}).items():
        assert result.benefit(benefit_id).state == state, benefit_id
    if "history_total" in case:
        history = result.history
        assert (history.annual_total_cny if history else None) == case["history_total"]
    codes = {caveat.code for caveat in result.caveats}
    assert set(case.get("caveats", [])) <= codes
    assert not set(case.get("no_caveats", [])) & codes


def test_cases_cover_every_benefit_three_ways() -> None:
    """Each benefit is expected True, False and None in some case."""
    rules = load_rules()
    seen: dict[str, set[Any]] = {benefit.id: set() for benefit in rules.benefits}
    for case in _table()["cases"]:
        for benefit_id, value in case.get("eligible", {}).items():
            targets = seen if benefit_id == "others" else {benefit_id: seen[benefit_id]}
            for verdicts in targets.values():
                verdicts.add(value)
    assert all(verdicts == {True, False, None} for verdicts in seen.values()), seen


def test_cases_cross_every_effective_date() -> None:
    """Every effective_from and effective_to of benefits and amounts has a case on each side."""
    rules = load_rules()
    days = {case["as_of"] for case in _table()["cases"]}
    for benefit in rules.benefits:
        for dated in (benefit, *benefit.amounts):
            start, end = dated.effective_from, dated.effective_to
            assert {start - ONE_DAY, start} <= days, (benefit.id, start)
            assert end is None or {end, end + ONE_DAY} <= days, (benefit.id, end)


def test_every_reason_is_rendered_in_both_languages(rules: RuleSet) -> None:
    """Reasons carry a code, params and non-empty zh_Hans and en texts."""
    for case in _table()["cases"]:
        result = _run(case, rules)
        for note in (*result.caveats, *(reason for benefit in result.benefits for reason in benefit.reasons)):
            assert note.code and note.text["zh_Hans"] and note.text["en"], (case["id"], note)
