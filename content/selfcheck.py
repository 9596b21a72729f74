"""Hooks of the self-check flow (content/flows/check.yaml): "what do we qualify for?".

A question's `save_as` names the profile fact it asks about (e.g. "plan.full_time"); a button's
value is that fact's value, or a mapping of several facts (the education question sets two).
Any other value ("unsure") leaves the fact unknown. The 2017 rules are read on a date inside the
action (2017-07-21..2020-12-31); the caveats are those of the real day, so that after 2020 the
result says the action has ended, what continues and where to ask.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, NamedTuple

from content.benefits import FACT_DOMAINS, RuleSet
from content.eligibility import (
    BenefitResult,
    Note,
    Profile,
    Result,
    evaluate,
    parse_profile,
    relevant_facts,
)
from dialogs import hooks
from dialogs.model import DEFAULT_LANGUAGE, LANGUAGES, Book, Choice, Items, Money, Ref, State, Step

DETAIL_ANSWER = "detail"  # the answer of the "pick" step: the benefit whose details are shown
CAVEAT_PREFIX = "caveat."  # dated caveats among the evaluator's notes
# Evaluator notes that state the amount; the screens show it as Money instead.
AMOUNT_NOTES = ("amount_up_to", "amount_fixed", "amount_local", "non_cash")
VERDICT_ORDER = {True: 0, None: 1, False: 2}
BUTTON_KEYS = {True: "check.button_eligible", None: "check.button_maybe", False: "check.button_no"}
VERDICT_KEYS = {True: "check.verdict_eligible", None: "check.verdict_maybe", False: "check.verdict_no"}
# (any eligible, any maybe) -> the message that lays out the result.
RESULT_KEYS = {
    (True, True): "check.results_both",
    (True, False): "check.results_eligible",
    (False, True): "check.results_maybe",
    (False, False): "check.results_none",
}


class Check(NamedTuple):
    """One evaluation of the answers: the rules, the reader's language, the dates and the result."""

    rules: RuleSet
    lang: str
    today: date | None  # the channel's date; None when it sent none
    as_of: date  # the day the 2017 rules are read on
    result: Result
    caveats: tuple[Note, ...]


# ---------------------------------------------------------------- answers and dates


def facts_from_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    """The known facts in the answers; "not sure" and answers that are not facts are left out."""
    facts: dict[str, Any] = {}
    for name, value in answers.items():
        pairs = value.items() if isinstance(value, dict) else [(name, value)]
        facts.update((fact, known) for fact, known in pairs if fits_domain(fact, known))
    return facts


def fits_domain(fact: str, value: Any) -> bool:
    """True when `value` is a valid value of the profile fact `fact`."""
    domain = FACT_DOMAINS.get(fact)
    if isinstance(domain, tuple):
        return value in domain
    if domain is bool:
        return isinstance(value, bool)
    return domain is int and isinstance(value, int) and not isinstance(value, bool)


def profile_from_answers(answers: Mapping[str, Any], as_of: date) -> Profile:
    """The eligibility profile the answers describe."""
    sections: dict[str, dict[str, Any]] = {}
    for fact, value in facts_from_answers(answers).items():
        section, field = fact.split(".")
        sections.setdefault(section, {})[field] = value
    return parse_profile(sections, as_of)


def earlier_answers(book: Book, state: State) -> dict[str, Any]:
    """The answers to the steps the user went through before the current one."""
    steps = book.flows[state.flow or book.menu].steps
    names = {steps[step_id].save_as for step_id in state.history if step_id in steps}
    return {name: value for name, value in state.answers.items() if name in names}


def channel_date(state: State) -> date | None:
    """The date the channel sent with the input, if any."""
    raw = state.data.get("today")
    try:
        return date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def action_period(rules: RuleSet) -> tuple[date, date]:
    """The first and last day of the action: the span of its benefits."""
    start = min(benefit.effective_from for benefit in rules.benefits)
    end = max(benefit.effective_to or date.max for benefit in rules.benefits)
    return start, end


def policy_date(rules: RuleSet, today: date | None) -> date:
    """The day the rules are read on: today kept within the action; its last day when today is unknown."""
    start, end = action_period(rules)
    return min(max(today or end, start), end)


def language(state: State) -> str:
    """The reader's language, one the rules have texts in."""
    return state.lang if state.lang in LANGUAGES else DEFAULT_LANGUAGE


# ---------------------------------------------------------------- skipping


@hooks.skips("check_irrelevant")
def question_cannot_matter(book: Book, state: State) -> bool:
    """Skip a question whose fact, given the earlier answers, can change no verdict, amount or goal."""
    step = _current_step(book, state)
    fact = step.save_as or ""
    if fact not in FACT_DOMAINS:
        return False
    rules: RuleSet = book.context["rules"]
    as_of = policy_date(rules, channel_date(state))
    profile = profile_from_answers(earlier_answers(book, state), as_of)
    return not fact_may_matter(profile, rules, as_of, fact)


def fact_may_matter(profile: Profile, rules: RuleSet, as_of: date, fact: str) -> bool:
    """True when an answer about `fact` could change a verdict, an amount or a goal of the action."""
    return fact in relevant_facts(profile, rules, as_of) or may_change_goals(profile, rules, as_of, fact)


def may_change_goals(profile: Profile, rules: RuleSet, as_of: date, fact: str) -> bool:
    """True when some answer to `fact` would change whether a goal of the action (两后生) is met."""
    domain = FACT_DOMAINS[fact]
    values = (True, False) if domain is bool else domain if isinstance(domain, tuple) else ()
    goals = evaluate(profile, rules, as_of).goals
    return any(evaluate(profile.with_fact(fact, value), rules, as_of).goals != goals for value in values)


def _current_step(book: Book, state: State) -> Step:
    """The step being asked."""
    flow = book.flows[state.flow or book.menu]
    return flow.steps.get(state.step or "") or flow.steps[flow.start]


# ---------------------------------------------------------------- evaluation


def run_check(book: Book, state: State) -> Check:
    """Evaluate the earlier answers against the rules."""
    rules: RuleSet = book.context["rules"]
    today = channel_date(state)
    as_of = policy_date(rules, today)
    profile = profile_from_answers(earlier_answers(book, state), as_of)
    result = evaluate(profile, rules, as_of)
    return Check(rules, language(state), today, as_of, result, caveats_for(rules, profile, today, result))


def caveats_for(rules: RuleSet, profile: Profile, today: date | None, result: Result) -> tuple[Note, ...]:
    """The result's notes, its dated caveats replaced by today's (after 2020: the action has ended)."""
    if today is None or today == result.as_of:
        return result.caveats
    own = [note for note in result.caveats if not note.code.startswith(CAVEAT_PREFIX)]
    dated = [note for note in evaluate(profile, rules, today).caveats if note.code.startswith(CAVEAT_PREFIX)]
    return tuple(dated + own)


# ---------------------------------------------------------------- the summary


@hooks.computes("check_result")
def result_params(book: Book, state: State) -> dict[str, Any]:
    """Parameters of the summary: the dates, the benefits by verdict, the caveats."""
    check = run_check(book, state)
    return {
        "header": header(check),
        "results": results_section(check),
        "caveats": Items(tuple(note.text[check.lang] for note in check.caveats)),
    }


def header(check: Check) -> Ref:
    """The first line: which notice, read on which date, and why that date."""
    start, end = action_period(check.rules)
    key = "check.header_no_date" if check.today is None else "check.header"
    if check.today is not None and check.today != check.as_of:
        key = "check.header_outside"
    params = {
        "document": check.rules.notice.id,
        "date": check.as_of.isoformat(),
        "today": check.today.isoformat() if check.today else "",
        "start": start.isoformat(),
        "end": end.isoformat(),
    }
    return Ref(key, tuple(params.items()))


def results_section(check: Check) -> Ref:
    """The eligible benefits with their amounts and the total, then the "maybe" ones."""
    eligible = [result for result in check.result.benefits if result.eligible is True]
    maybe = [result for result in check.result.benefits if result.eligible is None]
    lines = [eligible_line(check, result) for result in eligible]
    if check.result.annual_total_cny:
        lines.append(Ref("check.total", (("amount", Money(check.result.annual_total_cny)),)))
    params = (("eligible", Items(tuple(lines))), ("maybe", Items(tuple(maybe_line(check, r) for r in maybe))))
    return Ref(RESULT_KEYS[(bool(eligible), bool(maybe))], params)


def eligible_line(check: Check, result: BenefitResult) -> Ref:
    """One eligible benefit: name, amount and clause."""
    benefit = check.rules.benefit(result.id)
    params = {
        "name": _name(check, result),
        "amount": amount(check, result),
        "clause": benefit.source.clause or benefit.source.cite(),
    }
    return Ref("check.line_eligible", tuple(params.items()))


def maybe_line(check: Check, result: BenefitResult) -> Ref:
    """One benefit that depends on unknown facts: name and what is still missing."""
    params = (("name", _name(check, result)), ("missing", missing(check, result)))
    return Ref("check.line_maybe", params)


def amount(check: Check, result: BenefitResult) -> Ref:
    """What a benefit pays under the rules: up to or exactly an amount, a local amount, or no cash."""
    benefit = check.rules.benefit(result.id)
    if not benefit.cash:
        return Ref("check.amount_none")
    period = check.rules.amount_on(benefit.id, check.as_of)
    if period is None or period.cny_per_year is None:
        return Ref("check.amount_local")
    per = check.rules.texts.periods[benefit.period or "per_year"].get(check.lang)
    key = "check.amount_up_to" if period.is_maximum else "check.amount_fixed"
    return Ref(key, (("amount", Money(period.cny_per_year)), ("period", per)))


def missing(check: Check, result: BenefitResult) -> str:
    """The facts a benefit still needs, as their labels joined in the reader's language."""
    texts = check.rules.texts
    labels = (texts.facts[fact].label.get(check.lang) for fact in result.missing)
    return texts.list_joiner.get(check.lang).join(labels)


# ---------------------------------------------------------------- details


@hooks.lists("check_benefits")
def benefit_buttons(book: Book, state: State) -> list[Choice]:
    """One button per benefit: eligible first, then "maybe", then the others."""
    check = run_check(book, state)
    ordered = sorted(check.result.benefits, key=lambda result: VERDICT_ORDER[result.eligible])
    return [
        Choice(result.id, BUTTON_KEYS[result.eligible], params=(("name", _name(check, result)),))
        for result in ordered
    ]


@hooks.computes("check_detail")
def detail_params(book: Book, state: State) -> dict[str, Any]:
    """Parameters of one benefit's screen: verdict, why, amount, what to prepare, where to apply, clause."""
    check = run_check(book, state)
    chosen = state.answers.get(DETAIL_ANSWER)
    result = next((r for r in check.result.benefits if r.id == chosen), check.result.benefits[0])
    benefit = check.rules.benefit(result.id)
    reasons = tuple(note.text[check.lang] for note in result.reasons if note.code not in AMOUNT_NOTES)
    return {
        "name": benefit.name.get(check.lang),
        "verdict": Ref(VERDICT_KEYS[result.eligible], (("missing", missing(check, result)),)),
        "summary": benefit.summary.get(check.lang),
        "amount": amount(check, result),
        "reasons": Items(reasons),
        "prepare": Items(tuple(getattr(benefit.prepare, check.lang))),
        "apply_at": benefit.apply_at.get(check.lang),
        "source": result.source,
        "date": check.as_of.isoformat(),
    }


def _name(check: Check, result: BenefitResult) -> str:
    """A benefit's name in the reader's language."""
    return check.rules.benefit(result.id).name.get(check.lang)
