"""Hooks of the self-check flow (content/flows/check.yaml): "what do we qualify for?".

A question's `save_as` names the profile fact it asks about (e.g. "plan.full_time"); a button's
value is that fact's value, or a mapping of several facts (the education question sets two).
Any other value ("unsure") leaves the fact unknown.

The answers are evaluated once, on the day the channel sent (Input.today), by the same
`content.eligibility.evaluate` that `outreach eligibility` and the intake use. After the 2017
action the result says first what the household may ask for now and where, then, marked as
history, what the 2017 notice gave. Without a date only that history is shown.
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
    action_end,
    evaluate,
    parse_profile,
    relevant_facts,
)
from dialogs import hooks
from dialogs.model import DEFAULT_LANGUAGE, LANGUAGES, Book, Choice, Items, Money, Ref, State, Step

DETAIL_ANSWER = "detail"  # the answer of the "pick" step: the benefit whose details are shown
CAVEAT_PREFIX = "caveat."  # dated caveats among the evaluator's notes
CAVEATS_ON_SCREEN = 2  # the rest are behind the "more" button
# Evaluator notes that state the amount or the state; the screens show them in their own lines.
AMOUNT_NOTES = ("amount_up_to", "amount_fixed", "amount_local", "non_cash", "amount_note")
STATE_NOTES = ("state_ended", "state_continued", "state_unknown")
VERDICT_ORDER = {True: 0, None: 1, False: 2}
BUTTON_KEYS = {True: "check.button_eligible", None: "check.button_maybe", False: "check.button_no"}
VERDICT_KEYS = {True: "check.verdict_eligible", None: "check.verdict_maybe", False: "check.verdict_no"}
THEN_VERDICT_KEYS = {True: "check.then_eligible", None: "check.then_maybe", False: "check.then_no"}
# (any eligible, any maybe) -> the message that lays out the result.
RESULT_KEYS = {
    (True, True): "check.results_both",
    (True, False): "check.results_eligible",
    (False, True): "check.results_maybe",
    (False, False): "check.results_none",
}
HISTORY_KEYS = {
    (True, True): "check.history_both",
    (True, False): "check.history_eligible",
    (False, True): "check.history_maybe",
    (False, False): "check.history_none",
}


class Check(NamedTuple):
    """One evaluation of the answers: the rules, the reader's language, the date and the result."""

    rules: RuleSet
    lang: str
    today: date | None  # the channel's date; None when it sent none
    result: Result  # on today; without a date, on the action's last day

    @property
    def then(self) -> Result:
        """The evaluation under the 2017 rules: today's while the action ran, else its last day's."""
        return self.result.history or self.result

    @property
    def after_action(self) -> bool:
        """True when the 2017 action is over on the day asked (or the day is not known)."""
        return self.result.history is not None or self.today is None


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


def evaluation_date(rules: RuleSet, today: date | None) -> date:
    """The day the answers are evaluated on: today; the action's last day when today is not known."""
    return today or action_end(rules)


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
    as_of = evaluation_date(rules, channel_date(state))
    profile = profile_from_answers(earlier_answers(book, state), as_of)
    return not fact_may_matter(profile, rules, as_of, fact)


def fact_may_matter(profile: Profile, rules: RuleSet, as_of: date, fact: str) -> bool:
    """True when an answer about `fact` could change a verdict (now or then), an amount or a goal."""
    return fact in relevant_facts(profile, rules, as_of) or may_change_goals(profile, rules, as_of, fact)


def may_change_goals(profile: Profile, rules: RuleSet, as_of: date, fact: str) -> bool:
    """True when some answer to `fact` would change whether a goal of the action (两后生) is met."""
    domain = FACT_DOMAINS[fact]
    values = (True, False) if domain is bool else domain if isinstance(domain, tuple) else ()
    if fact == "person.age":
        values = tuple(range(0, 100, 5))  # enough ages to cross any band a goal names
    goals = _goals(evaluate(profile, rules, as_of))
    return any(_goals(evaluate(profile.with_fact(fact, value), rules, as_of)) != goals for value in values)


def _goals(result: Result) -> Mapping[str, bool | None]:
    return (result.history or result).goals


def _current_step(book: Book, state: State) -> Step:
    """The step being asked."""
    flow = book.flows[state.flow or book.menu]
    return flow.steps.get(state.step or "") or flow.steps[flow.start]


# ---------------------------------------------------------------- evaluation


def run_check(book: Book, state: State) -> Check:
    """Evaluate the earlier answers against the rules, once, on the channel's date."""
    rules: RuleSet = book.context["rules"]
    today = channel_date(state)
    as_of = evaluation_date(rules, today)
    profile = profile_from_answers(earlier_answers(book, state), as_of)
    return Check(rules, language(state), today, evaluate(profile, rules, as_of))


def screen_notes(check: Check) -> tuple[Note, ...]:
    """Today's dated caveats first, then the remarks on the 2017 result (stacking, totals, goal)."""
    dated = [note for note in check.result.caveats if note.code.startswith(CAVEAT_PREFIX)]
    own = [note for note in check.then.caveats if not note.code.startswith(CAVEAT_PREFIX)]
    return tuple(dated + own)


# ---------------------------------------------------------------- the summary


@hooks.computes("check_result")
def result_params(book: Book, state: State) -> dict[str, Any]:
    """The summary: what to ask for now and where, then the 2017 result as history, then two caveats."""
    check = run_check(book, state)
    notes = screen_notes(check)
    return {
        "now": now_section(check) if check.after_action else Ref("check.now_in_force"),
        "results": history_section(check) if check.after_action else results_section(check),
        "caveats": Items(tuple(note.text[check.lang] for note in notes[:CAVEATS_ON_SCREEN])),
    }


@hooks.computes("check_notes")
def notes_params(book: Book, state: State) -> dict[str, Any]:
    """Every caveat and remark of the result (the summary shows only the first two)."""
    check = run_check(book, state)
    return {"caveats": Items(tuple(note.text[check.lang] for note in screen_notes(check)))}


def now_section(check: Check) -> Ref:
    """After the action: what the household may ask for now, grouped by where to ask."""
    if check.today is None:
        return Ref("check.now_no_date")
    places: dict[str, list[str]] = {}
    for result in check.result.benefits:
        if result.eligible is not False and result.later and result.later.ask:
            places.setdefault(result.later.ask, []).append(_now_name(check, result))
    if not places:
        return Ref("check.now_nothing")
    joiner = check.rules.texts.list_joiner.get(check.lang)
    lines = tuple(
        Ref("check.now_line", (("names", joiner.join(names)), ("place", _place(check, place))))
        for place, names in places.items()
    )
    return Ref("check.now_ask", (("lines", Items(lines)),))


def _now_name(check: Check, result: BenefitResult) -> str:
    """A benefit as it is called now, with its amount where a later document states it."""
    later = result.later
    name = (later.name if later and later.name else check.rules.benefit(result.id).name).get(check.lang)
    if result.amount_cny_per_year is None:
        return name
    amount = check.rules.texts.periods["per_year"].get(check.lang)
    return check.rules.texts.now_amount.get(check.lang).format(
        name=name, per=amount, amount=result.amount_cny_per_year, document=result.amount_source
    )


def _place(check: Check, place: str) -> str:
    return check.rules.texts.places[place].get(check.lang)


def results_section(check: Check) -> Ref:
    """While the action ran: the eligible benefits with amounts and the cash total, then the "maybe" ones."""
    return _verdict_section(check, check.result, RESULT_KEYS)


def history_section(check: Check) -> Ref:
    """After the action: the same, under the 2017 rules, marked as history."""
    return _verdict_section(check, check.then, HISTORY_KEYS)


def _verdict_section(check: Check, result: Result, keys: dict[tuple[bool, bool], str]) -> Ref:
    eligible = [benefit for benefit in result.benefits if benefit.eligible is True]
    maybe = [benefit for benefit in result.benefits if benefit.eligible is None]
    lines = [eligible_line(check, benefit) for benefit in eligible]
    if result.annual_total_cny:
        waived = any(benefit.form == "waiver" for benefit in eligible)
        key = "check.total_cash_no_waiver" if waived else "check.total_cash"
        lines.append(Ref(key, (("amount", Money(result.annual_total_cny)),)))
    params = (
        ("eligible", Items(tuple(lines))),
        ("maybe", Items(tuple(maybe_line(check, benefit) for benefit in maybe))),
    )
    return Ref(keys[(bool(eligible), bool(maybe))], params)


def eligible_line(check: Check, result: BenefitResult) -> Ref:
    """One eligible benefit: name, amount and the source of the amount (or of the benefit)."""
    params = {"name": _name(check, result), "amount": amount(check, result), "clause": cited(check, result)}
    return Ref("check.line_eligible", tuple(params.items()))


def cited(check: Check, result: BenefitResult) -> str:
    """Where the line's statement is written: the notice's clause, or the outside document of the amount."""
    source = check.rules.benefit(result.id).source
    notice = check.rules.notice.id
    if result.amount_source and not result.amount_source.startswith(notice):
        return result.amount_source
    return source.clause or source.cite()


def maybe_line(check: Check, result: BenefitResult) -> Ref:
    """One benefit that depends on unknown facts: name and what is still missing."""
    params = (("name", _name(check, result)), ("missing", missing(check, result)))
    return Ref("check.line_maybe", params)


def amount(check: Check, result: BenefitResult) -> Ref:
    """What a benefit pays under the 2017 rules: a waiver, up to or exactly an amount, unknown, or no cash."""
    benefit = check.rules.benefit(result.id)
    if not benefit.cash:
        return Ref(f"check.amount_none.{benefit.id}")
    period = check.rules.amount_on(benefit.id, check.then.as_of, check.result.county)
    if period is None or period.cny_per_year is None:
        return Ref("check.amount_local")
    if benefit.waiver:
        return Ref("check.amount_waiver", (("amount", Money(period.cny_per_year)),))
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
    """One button per benefit, by what it is now: ✅ only for what is in force and fits; ended ones last."""
    check = run_check(book, state)
    ordered = sorted(check.result.benefits, key=lambda result: _button_order(result))
    return [
        Choice(result.id, _button_key(result), params=(("name", _name(check, result)),)) for result in ordered
    ]


def _button_order(result: BenefitResult) -> int:
    return 3 if result.state == "ended" else VERDICT_ORDER[result.eligible]


def _button_key(result: BenefitResult) -> str:
    return "check.button_ended" if result.state == "ended" else BUTTON_KEYS[result.eligible]


@hooks.computes("check_detail")
def detail_params(book: Book, state: State) -> dict[str, Any]:
    """One benefit's screen: now (after the action), the verdict, why, amount, papers, where, source."""
    check = run_check(book, state)
    chosen = state.answers.get(DETAIL_ANSWER)
    now = next((r for r in check.result.benefits if r.id == chosen), check.result.benefits[0])
    then = check.then.benefit(now.id)
    benefit = check.rules.benefit(now.id)
    skipped = AMOUNT_NOTES + STATE_NOTES
    reasons = tuple(note.text[check.lang] for note in then.reasons if note.code not in skipped)
    verdicts = THEN_VERDICT_KEYS if check.after_action else VERDICT_KEYS
    return {
        "name": benefit.name.get(check.lang),
        "now": _now_line(check, now),
        "verdict": Ref(verdicts[then.eligible], (("missing", missing(check, then)),)),
        "summary": benefit.summary.get(check.lang),
        "amount": amount(check, then),
        "reasons": Items(reasons),
        "prepare": Items(tuple(getattr(benefit.prepare, check.lang))),
        "apply_at": benefit.apply_at.get(check.lang),
        "source": _detail_source(check, then),
    }


def _now_line(check: Check, result: BenefitResult) -> Ref:
    """What the benefit is today, in words (empty while the action runs)."""
    if not check.after_action:
        return Ref("check.now_empty")
    if check.today is None:
        return Ref("check.now_unknown_date")
    state = next((note for note in result.reasons if note.code in STATE_NOTES), None)
    return Ref("check.now_state", (("text", state.text[check.lang] if state else ""),))


def _detail_source(check: Check, result: BenefitResult) -> str:
    """The benefit's clause, and the outside documents its amount or study years come from."""
    sources = [result.source]
    period = check.rules.amount_on(result.id, check.then.as_of, check.result.county)
    for extra in (period.source if period else None, period.years_source if period else None):
        if extra and extra not in sources and not extra.startswith(check.rules.notice.id):
            sources.append(extra)
    return check.rules.texts.list_joiner.get(check.lang).join(sources)


def _name(check: Check, result: BenefitResult) -> str:
    """A benefit's name in the reader's language."""
    return check.rules.benefit(result.id).name.get(check.lang)
