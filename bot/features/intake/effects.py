"""The `intake_submitted` effect: evaluate each member's eligibility, then store the intake for HR."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date
from functools import partial
from typing import Any

from bot.core.effects import Effects
from bot.features.access.rules import can
from content.benefits import RuleSet, load_rules
from content.eligibility import Profile, ProfileError, Result, evaluate, parse_profile
from content.eligibility_json import result_json
from content.i18n import Translator
from dialogs.model import DEFAULT_LANGUAGE, Reply
from storage.crypto import Cipher
from storage.repositories import access as access_repo
from storage.repositories import audit
from storage.repositories.intake import SubmitResult, submit_intake
from storage.submission import known_age

log = logging.getLogger(__name__)

EVENT = "intake_submitted"
WORKER_CLAIMED = "intake_worker_claimed"  # "我是工作队员" pressed (content/flows/intake.yaml)
CONSENT_TEXT_KEY = "intake.consent.text"  # the consent the user agreed to, in the intake catalog
# 建档立卡: a 脱贫户 (lifted out) is a registered household that left poverty, so it stays registered;
# 监测对象 may or may not have been registered, so that stays unknown, as does "unknown".
REGISTERED_POOR = {"registered_poor": True, "lifted_out": True, "none": False}
EDUCATION = {"junior_high_graduate", "senior_high_graduate", "in_school"}  # the rest is "other"
ABLE_TO_WORK = {"full": True, "partial": True, "none": False}
# 四（三） names 贫困户子女: a son or daughter of the household; a grandchild or "other" stays unknown.
HOUSEHOLD_CHILD = {"child": True, "head": False, "spouse": False, "parent": False, "sibling": False}
PLAN_KIND = {
    "technical_school": "technical_school",
    "vocational_training": "vocational_training",
    "apprenticeship": "apprenticeship",
    "entrepreneurship": "entrepreneurship",
}


def register(effects: Effects, *, cipher: Cipher, rules: Callable[[], RuleSet] = load_rules) -> None:
    """Handle `intake_submitted` events (data: flow, answers, submission) with this cipher."""
    effects.on(EVENT, partial(_on_intake_submitted, cipher=cipher, rules=rules))
    effects.on(WORKER_CLAIMED, _on_worker_claimed)


async def _on_worker_claimed(*, key: str, session: Any, **_: Any) -> list[Reply]:
    """ "I am from the work team" without the role: say at once that the entry stays the household's own.

    The same check decides again at submission (`checked_provenance`), for the village then chosen.
    """
    member = await access_repo.load_member(session=session, channel_key=key)
    return [] if can(member, "worker.intake") else [Reply("intake.worker_no_role")]


async def _on_intake_submitted(
    *, key: str, session: Any, cipher: Cipher, rules: Callable[[], RuleSet], answers: dict, **_: Any
) -> None:
    """Store the submission the dialog built; the dialog has already told the user what happens next."""
    submission = await checked_provenance(with_consent_text(answers["submission"]), key=key, session=session)
    result = await record_intake(
        session=session, submission=submission, cipher=cipher, submitted_by=key, rules=rules()
    )
    # Codes and ids only: never names or numbers in the log.
    log.info(
        "intake from %s: stored=%s reason=%s household=%s new=%s updated=%s left_out=%s conflicts=%s",
        key,
        result.stored,
        result.reason,
        result.household_id,
        result.new_intent_ids,
        result.updated_intent_ids,
        [(item.index, item.code) for item in result.left_out],
        result.conflict_fields,
    )


async def checked_provenance(submission: dict, *, key: str, session: Any) -> dict:
    """A household may not pass its entry off as a work team's: "worker" needs the role, checked here.

    Anyone may answer "I am from the work team" in the dialog; only stored roles and scopes decide.
    A claim without them is kept as the household's own entry (HR still gets it) and is audited.
    """
    if submission.get("answered_by") != "worker":
        return submission
    member = await access_repo.load_member(session=session, channel_key=key)
    if can(member, "worker.intake", str(submission.get("village_code") or "")):
        return submission
    await audit.record(
        session=session, actor=key, action="refused:worker.intake", target_kind="county",
        target_id=str(submission.get("village_code") or "")[:6], channel=audit.channel_of(key),
    )  # fmt: skip
    return {**submission, "answered_by": "household"}


def with_consent_text(submission: dict) -> dict:
    """The submission with the consent text the user was shown, in their language, stored beside it."""
    consent = dict(submission.get("consent") or {})
    if "text" not in consent:
        consent["text"] = Translator(consent.get("language", DEFAULT_LANGUAGE)).text(CONSENT_TEXT_KEY)
    return {**submission, "consent": consent}


async def record_intake(
    *,
    session: Any,
    submission: dict,
    cipher: Cipher,
    submitted_by: str,
    rules: RuleSet,
    today: date | None = None,
) -> SubmitResult:
    """Evaluate every member's eligibility as of today and store the submission."""
    day = today or date.today()
    eligibility = member_eligibility(submission, rules, day)
    return await submit_intake(
        session=session,
        submission=submission,
        cipher=cipher,
        submitted_by=submitted_by,
        eligibility_by_member=eligibility,
    )


def member_eligibility(submission: Mapping[str, Any], rules: RuleSet, as_of: date) -> list[dict | None]:
    """Each member's eligibility summary (JSON-able), None where there is no wish or no valid profile."""
    village = str(submission.get("village_code") or "")
    household = submission.get("household") or {}
    summaries: list[dict | None] = []
    for member in submission.get("members") or []:
        wish_kind = (member.get("wish") or {}).get("kind")
        if wish_kind in (None, "none"):
            summaries.append(None)
            continue
        try:
            profile = member_profile(member, household=household, village_code=village, as_of=as_of)
        except ProfileError:
            summaries.append(None)
            continue
        summaries.append(summarise(evaluate(profile, rules, as_of, village[:6] or None)))
    return summaries


def member_profile(
    member: Mapping[str, Any], *, household: Mapping[str, Any], village_code: str, as_of: date
) -> Profile:
    """The eligibility profile of a submitted member; facts the submission lacks stay unknown."""
    wish = member.get("wish") or {}
    data = {
        "household": {
            "registered_poor": REGISTERED_POOR.get(household.get("status")),
            "rural": _rural(village_code),
        },
        "person": {
            "age": _age(member, as_of),
            "able_to_work": ABLE_TO_WORK.get(member.get("labour_capacity")),
            "household_child": HOUSEHOLD_CHILD.get(member.get("relation")),
            "education": _education(member.get("education")),
            # A 两后生 by definition did not go on to senior high school or university.
            "continued_study": False if member.get("two_after") in ("current", "previous") else None,
        },
        "plan": {
            "kind": _plan_kind(wish),
            # The wish to go to a technical school means a 技工院校 (the notice's school type).
            "school_type": "technical_school" if wish.get("kind") == "technical_school" else None,
            "has_business_project": wish.get("has_business_project"),
        },
    }
    return parse_profile(_known(data), as_of)


def summarise(result: Result) -> dict[str, Any]:
    """The evaluator's result as stored with the intent record and sent to HR: the same JSON contract as
    `outreach eligibility` (states on the day, history), notes as codes (rendered by whoever shows them)."""
    return result_json(result)


def _known(data: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The profile data without unknown (None) facts."""
    return {section: {k: v for k, v in facts.items() if v is not None} for section, facts in data.items()}


def _rural(village_code: str) -> bool | None:
    """True for a 村委会 (village committee, codes 2xx-3xx after the township); otherwise unknown."""
    return True if len(village_code) == 12 and village_code[9] in "23" else None


def _age(member: Mapping[str, Any], as_of: date) -> int | None:
    """The member's age from the stated age, the birth date or the ID number."""
    birth = member.get("birth_date")
    try:
        birth_date = date.fromisoformat(birth) if isinstance(birth, str) else birth
    except ValueError:
        birth_date = None
    return known_age(
        age=member.get("age"), birth_date=birth_date, id_number=member.get("id_number"), day=as_of
    )


def _education(value: str | None) -> str | None:
    """The member's education in the evaluator's terms (primary or less, college: "other")."""
    if value is None:
        return None
    return value if value in EDUCATION else "other"


def _plan_kind(wish: Mapping[str, Any]) -> str | None:
    """The evaluator's plan kind; training of the entrepreneurship type is 创业培训."""
    if wish.get("kind") == "vocational_training" and wish.get("training_type") == "entrepreneurship":
        return "entrepreneurship"
    return PLAN_KIND.get(wish.get("kind"))
