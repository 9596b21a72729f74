"""Citations point at what says it: every answer's cited clauses exist, and every amount it shows is
written in a clause it cites or in the B fact (the note) of a source it cites (policy/clauses.yaml)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from content import selfcheck
from content.benefits import load_rules
from content.book import load_book
from content.eligibility import evaluate, parse_profile
from content.i18n import Translator
from dialogs.model import LANGUAGES, Items, Money, Ref

CLAUSES_FILE = Path(__file__).resolve().parent.parent / "content" / "policy" / "clauses.yaml"
AMOUNT = {"zh_Hans": re.compile(r"(\d[\d,]*)元"), "en": re.compile(r"(\d[\d,]*) yuan")}


def _what_each_citation_says() -> dict[str, str]:
    """Clause id, full citation or source id/citation -> the text that backs an amount."""
    data = yaml.safe_load(CLAUSES_FILE.read_text(encoding="utf-8"))
    said: dict[str, str] = {}
    for clause in data["clauses"]:
        said[clause["id"]] = said[f"{data['document']} {clause['id']}"] = clause["text"]
    for source in data["sources"]:
        note = f"{source['note_zh_Hans']} {source['note_en']}"
        said[source["id"]] = said[source["citation"]] = note
    return said


SAID = _what_each_citation_says()


def _backed(amount: int, cited: list[str]) -> bool:
    """The amount is written (as digits) in one of the cited texts."""
    return any(str(amount) in SAID.get(citation, "").replace(",", "") for citation in cited)


def _amounts(text: str, lang: str) -> set[int]:
    return {int(found.replace(",", "")) for found in AMOUNT[lang].findall(text)}


# ---------------------------------------------------------------- the explainer


def _explain_steps():
    book = load_book()
    return [(step_id, step) for step_id, step in book.flows["explain"].steps.items() if step.cite]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize(("step_id", "step"), _explain_steps(), ids=lambda value: str(value)[:12])
def test_every_explainer_answer_cites_what_states_its_amounts(step_id, step, lang):
    book = load_book()
    assert all(clause in book.clauses for clause in step.cite), step.cite
    text = Translator(lang).text(step.text, dict(step.params))
    for amount in _amounts(text, lang):
        assert _backed(amount, list(step.cite)), f"{step_id}: {amount} not in {step.cite}"


def test_the_preamble_is_a_clause_and_says_which_schools():
    clauses = load_book().clauses
    assert "省级重点以上技工院校" in clauses["导语"].text
    assert clauses["导语"].citation == "豫人社〔2017〕57号 导语"


# ---------------------------------------------------------------- the rules


def test_every_amount_of_the_rules_is_in_its_cited_source():
    rules = load_rules()
    for benefit in rules.benefits:
        for period in benefit.amounts:
            if period.cny_per_year is not None:
                assert _backed(period.cny_per_year, [period.source]), (benefit.id, period.source)
            if period.years:
                assert period.years_source and period.years_source in SAID, benefit.id
        for later in benefit.later:
            if later.cny_per_year is not None:
                assert _backed(later.cny_per_year, [later.document or ""]), (benefit.id, later.document)


def test_the_2018_amount_of_yulu_is_cited_to_the_2018_document_not_to_the_notice():
    period = load_rules().amount_on("yulu_vocational", date(2019, 1, 1))
    assert (period.cny_per_year, period.source) == (3000, "豫扶贫办〔2018〕21号")
    grant = load_rules().amount_on("national_grant", date(2019, 1, 1))
    assert grant.source == "豫人社〔2017〕57号 四（一）" and grant.years_source == "财科教〔2016〕35号"


# ---------------------------------------------------------------- the self-check


PROFILES = {
    "student": {
        "household": {"registered_poor": True},
        "plan": {"kind": "technical_school", "school_type": "technical_school", "full_time": True,
                 "formal_enrollment": True},
    },
    "trainee": {
        "household": {"registered_poor": True, "rural": True},
        "person": {"household_child": True},
        "plan": {"kind": "training", "school_type": "technical_school"},
    },
    "vocational_high": {"plan": {"kind": "technical_school", "school_type": "vocational_high"}},
}  # fmt: skip
DAYS = (date(2017, 9, 1), date(2019, 5, 1), date(2021, 6, 1), date(2026, 12, 2))


def _lines(value) -> list[Ref]:
    """Every Ref inside a parameter value."""
    if isinstance(value, Ref):
        return [value, *(line for _, param in value.params for line in _lines(param))]
    if isinstance(value, Items):
        return [line for item in value.items for line in _lines(item)]
    return []


@pytest.mark.parametrize("day", DAYS, ids=str)
@pytest.mark.parametrize("name", PROFILES)
def test_every_check_answer_cites_what_states_its_amounts(name, day):
    rules = load_rules()
    result = evaluate(parse_profile(PROFILES[name], day), rules, day)
    for lang in LANGUAGES:
        check = selfcheck.Check(rules, lang, day, result)
        section = selfcheck.history_section(check) if check.after_action else selfcheck.results_section(check)
        for line in _lines(section):
            params = dict(line.params)
            if line.key != "check.line_eligible":
                continue
            money = [m for ref in _lines(params["amount"]) for _, m in ref.params if isinstance(m, Money)]
            for amount in money:
                assert _backed(amount.cny, [params["clause"]]), (name, day, params)
        if check.after_action:
            now = Translator(lang).format_value(selfcheck.now_section(check))
            for benefit in result.benefits:
                if benefit.amount_cny_per_year and benefit.later:
                    assert benefit.later.document in now, benefit.id
                    assert _backed(benefit.amount_cny_per_year, [benefit.later.document or ""])
