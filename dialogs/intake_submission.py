"""The intake's submission: the answers turned into storage's contract (storage/submission.py, version 1).

The consent's text is not included: the `intake_submitted` effect adds the text the user was shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dialogs import hooks
from dialogs.intake import (
    AGE,
    CONSENT,
    CONTACT,
    EDUCATION,
    GUARDIAN,
    HEAD,
    ID_NUMBER,
    KIND,
    LABOUR,
    MEMBERS,
    NAME,
    NUMBER,
    OTHER_TRADE,
    OUTSIDE,
    PHONE,
    PROJECT,
    RELATION,
    SENT_AT,
    SEX,
    SITUATION,
    STATUS,
    SUBMISSION,
    TRADE,
    TRAINING,
    VILLAGE,
    WHO,
    id_birth_date,
    id_sex,
    is_child,
    member_age,
    parse_day,
)
from dialogs.model import Book, State

VERSION = 1
KINDS = ("technical_school", "vocational_training", "apprenticeship", "entrepreneurship")
TRADE_KINDS = ("technical_school", "vocational_training", "apprenticeship")
TRAINING_TYPES = ("pre_employment", "employment_skills", "skill_upgrade", "entrepreneurship")
CONTACT_TIMES = ("morning", "afternoon", "evening", "any")
STATUSES = ("registered_poor", "lifted_out", "monitored", "none", "unknown")
RELATIONS = ("head", "spouse", "child", "grandchild", "parent", "sibling", "other")
LABOUR_CAPACITIES = ("full", "partial", "none")
SITUATIONS = ("in_school", "working_away", "at_home", "other")


def _one_of(value: Any, allowed: tuple[str, ...], default: str | None = None) -> str | None:
    """The value when it is one of `allowed`, else the default."""
    return value if value in allowed else default


def _bool(value: Any) -> bool | None:
    """A yes/no answer; "not sure" is None."""
    return value if isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    """A typed answer, None when skipped."""
    return value if isinstance(value, str) and value else None


def build_submission(answers: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """The submission for storage, from the answers and the state's data ("today")."""
    today = data.get("today")
    return {
        "version": VERSION,
        "answered_by": _one_of(answers.get(WHO), ("worker", "household"), "household"),
        "village_code": str(answers.get(VILLAGE) or ""),
        "household": {
            "head_name": answers.get(HEAD, ""),
            "status": _one_of(answers.get(STATUS), STATUSES, "unknown"),
            "household_number": _text(answers.get(NUMBER)),
            "phone": _text(answers.get(PHONE)),
        },
        "members": [member(saved, today) for saved in answers.get(MEMBERS) or []],
        "consent": dict(answers.get(CONSENT) or {}),
    }


def member(saved: Mapping[str, Any], today: Any) -> dict[str, Any]:
    """One member in the contract's terms."""
    day = parse_day(today)
    number = _text(saved.get(ID_NUMBER))
    birth = id_birth_date(number)
    edu = saved.get(EDUCATION) if isinstance(saved.get(EDUCATION), dict) else {}
    typed_sex = _one_of(saved.get(SEX), ("male", "female"))
    age = saved.get(AGE)
    return {
        "name": saved.get(NAME, ""),
        "relation": _one_of(saved.get(RELATION), RELATIONS, "other"),
        "sex": typed_sex or (id_sex(number) if number else None),
        "age": age if isinstance(age, int) and not isinstance(age, bool) else member_age(saved, day),
        "birth_date": birth.isoformat() if birth else None,
        "id_number": number,
        "education": edu.get("education", "other"),
        "two_after": edu.get("two_after"),
        "labour_capacity": _one_of(saved.get(LABOUR), LABOUR_CAPACITIES),
        "situation": _one_of(saved.get(SITUATION), SITUATIONS, "other"),
        "guardian_consent": True if is_child(saved, day) and saved.get(GUARDIAN) is True else None,
        "wish": wish(saved),
    }


def wish(saved: Mapping[str, Any]) -> dict[str, Any]:
    """The member's wish: only the details that belong to its kind."""
    kind = _one_of(saved.get(KIND), KINDS)
    if kind is None:
        return {"kind": "none"}
    training = _one_of(saved.get(TRAINING), TRAINING_TYPES) if kind == "vocational_training" else None
    business = kind == "entrepreneurship" or training == "entrepreneurship"
    trade = saved.get(TRADE) if kind in TRADE_KINDS and not business else None
    return {
        "kind": kind,
        "training_type": training,
        "trade": trade if isinstance(trade, str) and trade not in ("", "other", OTHER_TRADE) else None,
        "has_business_project": _bool(saved.get(PROJECT)) if business else None,
        "outside_county_ok": _bool(saved.get(OUTSIDE)),
        "contact_time": _one_of(saved.get(CONTACT), CONTACT_TIMES),
    }


@hooks.transforms("intake_submit")
def submit(book: Book, state: State) -> None:
    """Consent given: record it with the text's version and language, and build the submission."""
    step = book.flows[state.flow or ""].steps[state.step or ""]
    version = str(step.params.get("version", ""))
    state.answers[CONSENT] = {"given": True, "text_version": version, "language": state.lang}
    state.answers[SUBMISSION] = build_submission(state.answers, state.data)
    state.answers[SENT_AT] = state.seq  # the "sent" screen emits the event only right after this
    state.data.pop("start_payload", None)  # a poster's village is not reused for the next household
