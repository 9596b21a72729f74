"""Engine features for longer flows: listed choices, transforms, search by text, edit from a review."""

from __future__ import annotations

from dialogs import hooks, validators
from dialogs.engine import advance
from dialogs.model import Book, Choice, Flow, Input, Reply, State, Step

PEOPLE = ("张三", "李四", "王五")


@hooks.lists("test_people")
def list_people(book: Book, state: State) -> list[Choice]:
    """One button per known person, labelled with the name."""
    return [
        Choice(f"p{i}", "t.person", value=name, params=(("name", name),)) for i, name in enumerate(PEOPLE)
    ]


@hooks.transforms("test_push_member")
def push_member(book: Book, state: State) -> None:
    """Move the member being entered into the list of members."""
    state.answers.setdefault("members", []).append(state.answers.pop("member_name"))


@validators.validator("test_person_search")
def person_search(text, answers, context):
    """Find a person by part of the name; a single hit answers the question."""
    hits = [name for name in PEOPLE if text in name]
    return validators.ok(hits[0], goto="confirm") if len(hits) == 1 else validators.error("t.no_hit")


def make_book() -> Book:
    """A flow with a dynamic list, a member loop and a review screen."""
    steps = {
        "who": Step("who", "t.who", choices_from="test_people", input="choice_or_text",
                    validate="test_person_search", save_as="person", next="member"),
        "confirm": Step("confirm", "t.confirm", (Choice("ok", "t.ok", goto="member"),)),
        "member": Step("member", "t.member", input="text", save_as="member_name", next="more"),
        "more": Step("more", "t.more", (Choice("yes", "t.yes", apply="test_push_member", goto="member"),
                                        Choice("no", "t.no", apply="test_push_member", goto="review"))),
        "review": Step("review", "t.review", (Choice("edit_who", "t.edit", goto="who", edit=True),
                                              Choice("send", "t.send", goto="@end"))),
    }  # fmt: skip
    menu = Flow("menu", "main", {"main": Step("main", "m.main", (Choice("go", "m.go", goto=">f"),))})
    return Book(flows={"menu": menu, "f": Flow("f", "who", steps)}, clauses={})


BOOK = make_book()


def feed(state: State, *inputs: Input) -> tuple[State, list]:
    """Feed several inputs; buttons get the current token."""
    replies: list = []
    for user_input in inputs:
        if user_input.kind == "choice":
            user_input = Input.choice(user_input.value, state.seq)
        state, replies = advance(BOOK, state, user_input)
    return state, replies


def test_listed_choices_are_buttons_with_params():
    state, replies = feed(State(), Input.command("menu"), Input.choice("go"))
    options = [o for o in replies[-1].options if o.id.startswith("p")]
    assert [dict(o.params)["name"] for o in options] == list(PEOPLE)
    state, _ = feed(state, Input.choice("p1"))
    assert state.answers["person"] == "李四" and state.step == "member"


def test_typed_search_at_a_choice_step_can_decide_where_to_go():
    state, _ = feed(State(), Input.command("menu"), Input.choice("go"), Input.text("王"))
    assert state.answers["person"] == "王五" and state.step == "confirm"
    state, replies = feed(state, Input.text("赵"))  # not a button step: typed text is refused
    assert [r.key for r in replies if isinstance(r, Reply)] == ["core.use_buttons", "t.confirm"]


def test_search_without_a_hit_explains_and_keeps_the_step():
    state, replies = feed(State(), Input.command("menu"), Input.choice("go"), Input.text("赵"))
    assert [r.key for r in replies] == ["t.no_hit", "t.who"] and state.step == "who"


def test_transforms_build_a_list_in_a_loop():
    start = (Input.command("menu"), Input.choice("go"), Input.choice("p0"))
    members = (Input.text("大毛"), Input.choice("yes"), Input.text("二毛"), Input.choice("no"))
    state, _ = feed(State(), *start, *members)
    assert state.answers["members"] == ["大毛", "二毛"] and state.step == "review"


def test_edit_from_review_comes_back_to_review():
    state, _ = feed(State(), Input.command("menu"), Input.choice("go"), Input.choice("p0"),
                    Input.text("大毛"), Input.choice("no"))  # fmt: skip
    state, _ = feed(state, Input.choice("edit_who"))
    assert state.step == "who" and state.return_to == "review"
    state, _ = feed(state, Input.choice("p2"))
    assert state.step == "review" and state.answers["person"] == "王五" and state.return_to is None
    assert state.answers["members"] == ["大毛"]  # the rest is untouched
