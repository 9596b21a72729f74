"""The evaluator's result as JSON: the contract of `outreach eligibility` and of the eligibility stored with
each intent record (README, "The eligibility JSON"). One shape for both: HR and the CLI see the same states.

With a language the notes are texts in it (the CLI); without one they are codes (stored records, rendered
by whoever shows them).
"""

from __future__ import annotations

from typing import Any

from content.eligibility import BenefitResult, Note, Result


def result_json(result: Result, language: str | None = None) -> dict[str, Any]:
    """The documented object: benefits with their state on `as_of`, the cash total, caveats, and history."""
    out = _one_day(result, language)
    out["history"] = _one_day(result.history, language) if result.history else None
    return out


def _one_day(result: Result, language: str | None) -> dict[str, Any]:
    return {
        "as_of": result.as_of.isoformat(),
        "county": result.county,
        "benefits": [_benefit(benefit, language) for benefit in result.benefits],
        "annual_total_cny": result.annual_total_cny,
        "caveats": [_note(caveat, language) for caveat in result.caveats],
        "goals": dict(result.goals),
    }


def _benefit(benefit: BenefitResult, language: str | None) -> dict[str, Any]:
    later = benefit.later
    return {
        "id": benefit.id,
        "state": benefit.state,
        "eligible": benefit.eligible,
        "form": benefit.form,
        "amount_cny_per_year": benefit.amount_cny_per_year,
        "amount_is_maximum": benefit.amount_is_maximum,
        "amount_source": benefit.amount_source,
        "reasons": [_note(reason, language) for reason in benefit.reasons],
        "missing": list(benefit.missing),
        "source": benefit.source,
        "ended_on": benefit.ended_on.isoformat()
        if benefit.ended_on and benefit.state != "in_force"
        else None,
        "later": None
        if later is None
        else {
            "state": later.state,
            "from": later.from_.isoformat(),
            "document": later.document,
            "name": later.name.get(language) if later.name and language else None,
            "amount_cny_per_year": later.cny_per_year,
            "mark": later.mark,
            "ask": later.ask,
        },
    }


def _note(note: Note, language: str | None) -> str:
    return note.text[language] if language else note.code
