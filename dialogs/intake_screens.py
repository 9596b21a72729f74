"""The intake's screens: a member's card, the review (numbers masked), the consent and the end.

Every personal number shown is masked (`4102*************X`, `*******5678`, `4102************`);
names are shown as typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dialogs import areas, hooks
from dialogs.intake import (
    CONTACT,
    EDUCATION,
    GUARDIAN,
    HEAD,
    ID_NUMBER,
    INDEX,
    KIND,
    LABOUR,
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
    TRADE,
    TRAINING,
    VILLAGE,
    WHO,
    is_child,
    masked_household_number,
    masked_id,
    masked_phone,
    member_age,
    parse_day,
)
from dialogs.intake_members import current, members
from dialogs.model import Book, Choice, Items, Ref, State

UNKNOWN = Ref("intake.unknown")
POSTER_PLACE, POSTER_RETIRED = "intake.poster_place", "intake.poster_retired"
NOT_GIVEN = Ref("intake.not_given")
# Answers are shown with their button's label (intake.a.<prefix><value>).
EDUCATION_LABELS = {"junior_high_graduate": "junior", "senior_high_graduate": "senior"}
OTHER_LEVELS = ("in_school", "primary_or_less", "college", "other")
YES_NO = {True: "yes", False: "no"}
WHO_VALUES = ("worker", "household")
LABOUR_VALUES = ("full", "partial", "none")  # on a card: intake.r.labour_<value> ("Able to work: yes")


def _label(prefix: str, value: Any) -> Ref:
    """The message for an answer given by a button, or "unknown"."""
    return Ref(f"intake.a.{prefix}{value}") if isinstance(value, str) and value else UNKNOWN


def _yes_no(value: Any, prefix: str = "") -> Ref:
    """Yes, no or "not sure" for an answer that may be unknown."""
    return Ref(f"intake.a.{prefix}{YES_NO[value]}") if isinstance(value, bool) else Ref("intake.a.unsure")


def _params(**params: Any) -> tuple[tuple[str, Any], ...]:
    """Parameters of a message, as a Ref holds them."""
    return tuple(params.items())


# ---------------------------------------------------------------- the start


@hooks.computes("intake_start")
def start_params(book: Book, state: State) -> dict[str, Any]:
    """The first question names the village of the poster scanned, or says why it is not taken."""
    return {"place": _poster_place(book, state) or ""}


@hooks.computes("intake_link_notice")
def link_notice(book: Book, state: State) -> dict[str, Any]:
    """A poster scanned while an intake is under way: why its village is not taken, or nothing.

    Nothing when the first screen comes next (it says so itself), when the intake has a village
    already (that answer stands, whatever the poster), or when the poster's village is offered.
    """
    flow = book.flows.get(state.flow or "")
    if flow is None or state.step == flow.start or VILLAGE in state.answers:
        return {}
    place = _poster_place(book, state)
    if place is None or place.key == POSTER_PLACE:
        return {}
    if place.key == POSTER_RETIRED:  # the same words, and that the draft is kept
        return {"notice": Ref("intake.poster_retired_draft", place.params)}
    return {"notice": Ref("intake.poster_unknown_draft", place.params)}


def _poster_place(book: Book, state: State) -> Ref | None:
    """What a poster's code says: its village; a village no longer in the list; a code not found."""
    payload = str(state.data.get("start_payload") or "")
    if not payload.startswith(areas.POSTER_PREFIX):
        return None
    index = areas.index_of(book)
    village = areas.deep_link_village(index, state.data)
    place = village or areas.retired_deep_link_village(index, state.data)
    if place is None:
        return Ref("intake.poster_unknown", _params(code=payload[: areas.MAX_SHOWN_TEXT]))
    township = index.get(place.parent_code)
    names = _params(township=township.name if township else "", village=place.name)
    if village is not None:
        return Ref("intake.poster_place", names)
    return Ref("intake.poster_retired", names)


# ---------------------------------------------------------------- a member


def education(member: Mapping[str, Any]) -> Ref:
    """School level, with 应届/往届 for a 两后生."""
    edu = member.get(EDUCATION) if isinstance(member.get(EDUCATION), dict) else {}
    level, two_after = edu.get("education"), edu.get("two_after")
    if level in EDUCATION_LABELS and two_after in ("current", "previous"):
        return Ref(f"intake.a.{EDUCATION_LABELS[level]}_{two_after}")
    return _label("edu_", level) if level in OTHER_LEVELS else UNKNOWN


def trade(member: Mapping[str, Any]) -> Any:
    """The trade or major: its name from the list, or what the person typed."""
    value = member.get(TRADE)
    if isinstance(value, str) and value.startswith(OTHER_TRADE):
        return value[len(OTHER_TRADE) :]
    return Ref(f"intake.trade.{value}") if isinstance(value, str) and value != "other" else NOT_GIVEN


def wish(member: Mapping[str, Any]) -> Ref:
    """The wish in one line: what, which trade or project, outside the county, when to call."""
    kind = member.get(KIND)
    if kind not in ("technical_school", "vocational_training", "apprenticeship", "entrepreneurship"):
        return Ref("intake.wish_none")
    training = member.get(TRAINING) if kind == "vocational_training" else None
    if kind == "entrepreneurship" or training == "entrepreneurship":
        detail: Any = Ref("intake.project", _params(answer=_yes_no(member.get(PROJECT))))
    else:
        detail = trade(member)
    if kind == "vocational_training":
        detail = Ref("intake.training_detail", _params(type=_label("training_", training), detail=detail))
    outside = _yes_no(member.get(OUTSIDE), "outside_")
    contact = _label("contact_", member.get(CONTACT))
    return Ref(
        "intake.wish_line",
        _params(kind=_label("kind_", kind), detail=detail, outside=outside, contact=contact),
    )


def labour(value: Any) -> Ref:
    """Whether the member can work, in words that stand alone on a card (not a bare "Yes")."""
    return Ref(f"intake.r.labour_{value}") if value in LABOUR_VALUES else UNKNOWN


def card(member: Mapping[str, Any], today: Any) -> Ref:
    """A member's card: who, age and ID number (masked), school, work, wish, guardian's consent."""
    day = parse_day(today)
    age = member_age(member, day)
    number = member.get(ID_NUMBER)
    note = ""
    if is_child(member, day):
        note = Ref("intake.guardian_given" if member.get(GUARDIAN) is True else "intake.guardian_needed")
    params = _params(
        name=member.get(NAME, ""),
        relation=_label("rel_", member.get(RELATION)),
        sex=_label("", member.get(SEX)),
        age=Ref("intake.age", _params(age=age)) if age is not None else UNKNOWN,
        id=masked_id(number) if isinstance(number, str) and number else NOT_GIVEN,
        education=education(member),
        labour=labour(member.get(LABOUR)),
        situation=_label("sit_", member.get(SITUATION)),
        wish=wish(member),
        note=note,
    )
    return Ref("intake.card", params)


@hooks.computes("intake_member")
def member_params(book: Book, state: State) -> dict[str, Any]:
    """The member being entered: name, position in the list, card."""
    index = state.answers.get(INDEX)
    number = index + 1 if isinstance(index, int) else len(members(state)) + 1
    member = current(state)
    return {"name": member.get(NAME, ""), "number": number, "card": card(member, state.data.get("today"))}


# ---------------------------------------------------------------- the review


def household(answers: Mapping[str, Any]) -> Ref:
    """The household's facts, numbers masked."""
    phone, number = answers.get(PHONE), answers.get(NUMBER)
    params = _params(
        head=answers.get(HEAD, ""),
        status=_label("status_", answers.get(STATUS)),
        number=masked_household_number(number) if isinstance(number, str) and number else NOT_GIVEN,
        phone=masked_phone(phone) if isinstance(phone, str) and phone else NOT_GIVEN,
        who=Ref(f"intake.who.{answers.get(WHO)}") if answers.get(WHO) in WHO_VALUES else UNKNOWN,
    )
    return Ref("intake.household", params)


@hooks.computes("intake_review")
def review_params(book: Book, state: State) -> dict[str, Any]:
    """The review screen: place, household, every member's card."""
    today = state.data.get("today")
    cards = tuple(card(member, today) for member in members(state))
    listed: Any = Items(cards) if cards else Ref("intake.no_members")
    return {**areas.area_place(book, state), "household": household(state.answers), "members": listed}


@hooks.lists("intake_review_choices")
def review_choices(book: Book, state: State) -> list[Choice]:
    """Go on (once someone is entered), change the household, change or add a member."""
    saved = members(state)
    choices = (
        [Choice("next", "intake.review_next", goto="consent", apply="intake_review_done")] if saved else []
    )
    choices.append(Choice("household", "intake.edit_household", goto="h_edit", edit=True))
    choices += [
        Choice(f"member_{i}", "intake.edit_member", goto="m_done", value=i, apply="intake_edit_member",
               params=(("name", member.get(NAME, "")),))
        for i, member in enumerate(saved)
    ]  # fmt: skip
    choices.append(Choice("add", "intake.a.add_member", goto="m_name", apply="intake_new_member"))
    return choices


# ---------------------------------------------------------------- consent and the end


@hooks.computes("intake_consent")
def consent_params(book: Book, state: State) -> dict[str, Any]:
    """The consent text (its version is a parameter of the step)."""
    return {"text": Ref("intake.consent.text")}


@hooks.computes("intake_done")
def done_params(book: Book, state: State) -> dict[str, Any]:
    """The county whose HR office receives the intake."""
    county = areas.index_of(book).get(state.answers.get("county"))
    return {"county": county.name if county is not None else ""}


@hooks.lists("intake_done_choices")
def done_choices(book: Book, state: State) -> list[Choice]:
    """After a submission: another household (work teams), another person of this household, or finish.

    There is no way back to the consent: what was sent is withdrawn by its own action (/forget).
    """
    same = Choice("same_household", "intake.another_member", goto="m_name", apply="intake_same_household")
    finish = Choice("finish", "intake.finish", goto="@end")
    if state.answers.get(WHO) == "household":
        return [same, finish]
    another = Choice("another", "intake.another", goto="village", apply="intake_another_household")
    return [another, same, finish]


@hooks.skips("intake_sent")
def sent(book: Book, state: State) -> bool:
    """True once the "sent" screen was shown for this submission, so that it is not sent again."""
    return state.answers.get(SENT_AT) != state.seq
