"""The intake's member loop: one member is entered under "m."/"w." keys, then saved into "members".

A member is saved (a copy of those keys) when their screen is confirmed; "m.index" says which
entry of the list they are, "m.edit" that they were opened from the review to be changed.
"""

from __future__ import annotations

from typing import Any

from dialogs import areas, hooks
from dialogs.intake import (
    AGE,
    EDITING,
    GUARDIAN,
    HOUSEHOLD_KEYS,
    ID_NUMBER,
    INDEX,
    KIND,
    MEMBER_KEYS,
    MEMBERS,
    PICK,
    VILLAGE,
    WHO,
    id_age,
    is_child,
    parse_day,
)
from dialogs.model import Book, Choice, State

# Trades and majors offered for each wish (labels: intake.trade.<id>); "other" lets the person type one.
SCHOOL_TRADES = ("electrician", "welder", "auto_repair", "cnc", "computer", "ecommerce", "cooking",
                 "beauty", "nursing")  # fmt: skip
TRAINING_TRADES = ("electrician", "welder", "cooking", "pastry", "childcare", "housekeeping", "elder_care",
                   "ecommerce", "farming")  # fmt: skip
TRADES = {"technical_school": SCHOOL_TRADES, "vocational_training": TRAINING_TRADES,
          "apprenticeship": SCHOOL_TRADES}  # fmt: skip
OTHER = "other"
OTHER_STEP = "w_trade_other"


def members(state: State) -> list[dict[str, Any]]:
    """The members saved so far, to read."""
    saved = state.answers.get(MEMBERS)
    return saved if isinstance(saved, list) else []


def _saved(state: State) -> list[dict[str, Any]]:
    """The list of saved members in the answers, to change."""
    return state.answers.setdefault(MEMBERS, [])


def current(state: State) -> dict[str, Any]:
    """The member being entered, under their "m."/"w." keys."""
    return {key: state.answers[key] for key in MEMBER_KEYS if key in state.answers}


def _forget_current(state: State) -> None:
    """Clear the member keys and point at a new entry at the end of the list."""
    for key in MEMBER_KEYS:
        state.answers.pop(key, None)
    state.answers[INDEX] = len(members(state))


# ---------------------------------------------------------------- transforms


@hooks.transforms("intake_deep_link")
def deep_link(book: Book, state: State) -> None:
    """Fill the place from a poster's deep link, unless a village is already answered.

    A poster code that names no known village was said on the first screen: it is dropped here,
    so that the place is chosen from the lists and the next intake does not mention it again.
    """
    if areas.deep_link_village(areas.index_of(book), state.data) is None:
        if str(state.data.get("start_payload") or "").startswith(areas.POSTER_PREFIX):
            state.data.pop("start_payload", None)
    elif VILLAGE not in state.answers:
        areas.village_from_deep_link(book, state)


@hooks.transforms("intake_new_member")
def new_member(book: Book, state: State) -> None:
    """Start entering another member."""
    _forget_current(state)
    state.answers[EDITING] = False
    state.return_to = None  # see review_done


@hooks.transforms("intake_edit_member")
def edit_member(book: Book, state: State) -> None:
    """Open the member picked on the review screen (`pick` holds their position) for changes."""
    index = state.answers.get(PICK)
    saved = members(state)
    if not isinstance(index, int) or not 0 <= index < len(saved):
        return
    _forget_current(state)
    state.answers.update(saved[index])
    state.answers[INDEX], state.answers[EDITING] = index, True
    state.return_to = None  # see review_done


@hooks.transforms("intake_save_member")
def save_member(book: Book, state: State) -> None:
    """Save the member being entered into their place in the list (a new one goes at the end)."""
    saved = _saved(state)
    index = state.answers.get(INDEX)
    index = index if isinstance(index, int) and 0 <= index <= len(saved) else len(saved)
    if index == len(saved):
        saved.append(current(state))
    else:
        saved[index] = current(state)
    state.answers[INDEX] = index
    state.return_to = None  # confirming the member screen ends any edit begun there (or left by Back)


@hooks.transforms("intake_drop_member")
def drop_member(book: Book, state: State) -> None:
    """Forget the member being entered, and remove them if saved (from the review: back to the review)."""
    saved = _saved(state)
    index = state.answers.get(INDEX)
    if isinstance(index, int) and 0 <= index < len(saved):
        del saved[index]
    _forget_current(state)
    state.return_to = None


@hooks.transforms("intake_forget_identity")
def forget_identity(book: Book, state: State) -> None:
    """Before sex, ID number and age are entered again: drop the old ID number and age."""
    state.answers.pop(ID_NUMBER, None)
    state.answers.pop(AGE, None)


@hooks.transforms("intake_same_household")
def same_household(book: Book, state: State) -> None:
    """After a submission: another person of the same household, with the place and household kept."""
    kept = {key: state.answers[key] for key in HOUSEHOLD_KEYS if key in state.answers}
    state.answers = {**kept, MEMBERS: []}
    _forget_current(state)
    state.answers[EDITING] = False
    state.history, state.return_to = [], None


@hooks.transforms("intake_another_household")
def another_household(book: Book, state: State) -> None:
    """After a submission: the next household of the same township (a work team goes door to door)."""
    township = state.answers.get(areas.LEVEL_KEYS[areas.TOWNSHIP])
    state.answers = {WHO: state.answers.get(WHO)} if state.answers.get(WHO) else {}
    state.data.pop(areas.FOUND_KEY, None)
    state.history, state.return_to = [], None
    if isinstance(township, str) and areas.start_at(book, state, township):
        # Back leads to another township or county: those steps are shown, not skipped as started.
        state.data.pop(areas.START_KEY, None)
        state.history = ["who", "county", "township"]


@hooks.transforms("intake_review_done")
def review_done(book: Book, state: State) -> None:
    """Leaving the review forward ends an edit begun there and left by Back (the engine keeps it)."""
    state.return_to = None


# ---------------------------------------------------------------- skips


@hooks.skips("intake_township_known")
def township_known(book: Book, state: State) -> bool:
    """Skip the township when a deep link, `start_at` or a village typed at the county step answered it.

    `area_known` covers all three; a village typed at the township step itself does not skip it,
    so that Back from the next step shows the township step again.
    """
    return areas.area_known(book, state)


@hooks.skips("intake_guardian_done")
def guardian_done(book: Book, state: State) -> bool:
    """Skip the guardian's consent for a member who is not a child, or whose guardian agreed."""
    member = current(state)
    return member.get(GUARDIAN) is True or not is_child(member, parse_day(state.data.get("today")))


@hooks.skips("intake_one_member")
def one_member(book: Book, state: State) -> bool:
    """Skip "anyone else?" after changing a saved member (a new one is always followed by the question)."""
    return state.answers.get(EDITING) is True


# ---------------------------------------------------------------- choices


@hooks.lists("intake_age_choices")
def age_choices(book: Book, state: State) -> list[Choice]:
    """The age the ID number gives, as one button; without it, a "don't know" button."""
    age = id_age(state.answers.get(ID_NUMBER), parse_day(state.data.get("today")))
    if age is None:
        return [Choice("unknown", "intake.a.age_unknown", value="unknown")]
    return [Choice("from_id", "intake.a.age_from_id", value=age, params=(("age", age),))]


@hooks.lists("intake_trades")
def trade_choices(book: Book, state: State) -> list[Choice]:
    """The trades or majors for the wish chosen, then "other" (typed)."""
    trades = TRADES.get(state.answers.get(KIND), SCHOOL_TRADES)
    choices = [Choice(trade, f"intake.trade.{trade}", value=trade) for trade in trades]
    return [*choices, Choice(OTHER, "intake.trade.other", goto=OTHER_STEP)]
