"""Unit tests of the dialog engine on a small book built here (independent of the content)."""

from __future__ import annotations

import pytest

from dialogs.engine import MAX_TEXT_LENGTH, PAGE_SIZE, advance, prompt
from dialogs.model import Book, Choice, Clause, Event, Flow, Input, Reply, State, Step


def make_book() -> Book:
    """A menu, a two-question survey and a long list."""
    menu = Flow(
        "menu",
        "main",
        {
            "main": Step(
                "main",
                "menu.main",
                (Choice("survey", "m.survey", goto=">survey"), Choice("long", "m.long", goto=">long")),
            )
        },
    )
    survey = Flow(
        "survey",
        "name",
        {
            "name": Step("name", "s.name", input="text", save_as="name", next="age", help="s.name.help"),
            "age": Step("age", "s.age", input="text", validate="integer", save_as="age", next="pick"),
            "pick": Step(
                "pick",
                "s.pick",
                (
                    Choice("yes", "s.yes", value=True, goto="done"),
                    Choice("no", "s.no", value=False, goto="done"),
                ),
                save_as="likes",
                cite=("四（一）",),
            ),
            "done": Step("done", "s.done", (Choice("finish", "s.finish", goto="@end"),)),
        },
        resumable=True,
    )
    long = Flow(
        "long",
        "list",
        {
            "list": Step(
                "list", "l.list", tuple(Choice(f"c{i}", f"l.c{i}", goto="list") for i in range(PAGE_SIZE + 3))
            )
        },
    )
    clauses = {"四（一）": Clause("四（一）", "豫人社〔2017〕57号 四（一）", "(一)免除……学费")}
    return Book(
        flows={"menu": menu, "survey": survey, "long": long}, clauses=clauses, commands={"survey": "survey"}
    )


BOOK = make_book()


def keys(replies) -> list[str]:
    """The message keys of the replies, events left out."""
    return [r.key for r in replies if isinstance(r, Reply)]


def last_token(replies) -> int:
    """The token of the last reply with buttons."""
    return [r for r in replies if isinstance(r, Reply) and r.options][-1].token


def run(*inputs: Input, state: State | None = None) -> tuple[State, list]:
    """Feed inputs from a fresh state; return the final state and the last replies."""
    state = state or State()
    replies: list = []
    for user_input in inputs:
        state, replies = advance(BOOK, state, user_input)
    return state, replies


def test_first_contact_greets_and_shows_menu():
    state, replies = run(Input.text("hello"))
    assert keys(replies) == ["core.welcome", "menu.main"]
    assert state.flow == "menu"
    assert [o.id for o in replies[-1].options] == ["survey", "long"]


def test_text_answer_is_validated_and_stored():
    state, replies = run(Input.command("survey"), Input.text("王芳"), Input.text("abc"))
    assert keys(replies) == ["err.number_needed", "s.age"]
    assert state.answers == {"name": "王芳"} and state.step == "age"
    state, replies = advance(BOOK, state, Input.text("３５"))  # full-width digits
    assert state.answers["age"] == 35 and keys(replies) == ["s.pick"]


def test_emoji_only_name_is_refused_and_nothing_is_lost():
    state, replies = run(Input.command("survey"), Input.text("😀😀"))
    assert keys(replies) == ["err.text_needed", "s.name"]
    assert state.step == "name" and state.answers == {}


def test_back_returns_to_previous_step_and_menu_from_first():
    state, _ = run(Input.command("survey"), Input.text("王芳"))
    state, replies = advance(BOOK, state, Input.choice("back", state.seq))
    assert state.step == "name" and keys(replies) == ["s.name"]
    state, replies = advance(BOOK, state, Input.choice("back", state.seq))
    assert state.flow == "menu" and keys(replies) == ["menu.main"]


def test_stale_button_is_refused_without_changing_answers():
    state, replies = run(Input.command("survey"), Input.text("王芳"), Input.text("30"))
    old = last_token(replies)
    state, replies = advance(BOOK, state, Input.choice("yes", old))
    assert state.answers["likes"] is True
    state, replies = advance(BOOK, state, Input.choice("no", old))  # double tap / old message
    assert keys(replies) == ["core.stale_button", "s.done"]
    assert replies[0].notice and state.answers["likes"] is True


@pytest.mark.parametrize(
    ("user_input", "key"),
    [
        (Input("other"), "core.text_only"),
        (Input("invalid_button"), "core.invalid_button"),
        (Input.text("x" * (MAX_TEXT_LENGTH + 1)), "core.too_long"),
        (Input.command("nonsense"), "core.unknown_command"),
        (Input.choice("forged", None), "core.stale_button"),
    ],
)
def test_bad_input_keeps_state_and_repeats_question(user_input, key):
    before, _ = run(Input.command("survey"), Input.text("王芳"))
    after, replies = advance(BOOK, before, user_input)
    assert keys(replies) == [key, "s.age"]
    assert (after.flow, after.step, after.answers, after.history) == (
        before.flow,
        before.step,
        before.answers,
        before.history,
    )


def test_typing_where_buttons_are_expected():
    state, replies = run(Input.command("survey"), Input.text("王芳"), Input.text("30"), Input.text("yes"))
    assert keys(replies) == ["core.use_buttons", "s.pick"] and "likes" not in state.answers


def test_help_at_a_step_uses_the_step_help_then_repeats():
    _, replies = run(Input.command("survey"), Input.command("help"))
    assert keys(replies) == ["s.name.help", "s.name"]


def test_language_switch_mid_flow_keeps_place():
    state, replies = run(Input.command("survey"), Input.text("王芳"), Input.command("language"))
    assert keys(replies) == ["core.choose_language"] and state.mode == "language"
    state, replies = advance(BOOK, state, Input.choice("lang_en", last_token(replies)))
    assert state.lang == "en" and state.step == "age" and state.answers == {"name": "王芳"}
    assert any(isinstance(r, Event) and r.name == "language_changed" for r in replies)
    assert keys(replies) == ["core.language_set", "s.age"]


def test_cancel_leaves_flow_and_reports_event():
    state, replies = run(Input.command("survey"), Input.command("cancel"))
    assert state.flow == "menu" and keys(replies) == ["core.cancelled", "menu.main"]
    assert [r.name for r in replies if isinstance(r, Event)] == ["flow_cancelled"]
    _, replies = advance(BOOK, state, Input.command("cancel"))
    assert keys(replies)[0] == "core.nothing_to_cancel"


def test_start_in_resumable_flow_offers_continue_or_restart():
    state, _ = run(Input.command("survey"), Input.text("王芳"))
    state, replies = advance(BOOK, state, Input.command("start", "v_410101001001"))
    assert keys(replies) == ["core.resume"] and state.data["start_payload"] == "v_410101001001"
    resumed, replies = advance(BOOK, state, Input.choice("continue", last_token(replies)))
    assert resumed.step == "age" and resumed.answers == {"name": "王芳"} and keys(replies) == ["s.age"]
    restarted, replies = advance(BOOK, state, Input.choice("restart", state.seq))
    assert restarted.step == "name" and restarted.answers == {}


def test_finishing_a_flow_emits_answers_and_returns_to_menu():
    state, replies = run(Input.command("survey"), Input.text("王芳"), Input.text("30"))
    state, replies = advance(BOOK, state, Input.choice("no", state.seq))
    state, replies = advance(BOOK, state, Input.choice("finish", state.seq))
    finished = [r for r in replies if isinstance(r, Event) and r.name == "flow_finished"]
    assert dict(finished[0].data)["answers"] == {"name": "王芳", "age": 30, "likes": False}
    assert state.flow == "menu"


def test_clause_button_shows_original_then_repeats_step():
    state, replies = run(Input.command("survey"), Input.text("王芳"), Input.text("30"))
    assert replies[-1].cite == ("豫人社〔2017〕57号 四（一）",)
    assert "clause" in [o.id for o in replies[-1].options]
    state, replies = advance(BOOK, state, Input.choice("clause", state.seq))
    assert keys(replies) == ["core.clause_original", "s.pick"]
    assert dict(replies[0].params)["text"].startswith("(一)")


def test_long_lists_are_paged():
    state, replies = run(Input.command("menu"), Input.choice("long"))
    ids = [o.id for o in replies[-1].options]
    assert ids[:PAGE_SIZE] == [f"c{i}" for i in range(PAGE_SIZE)] and "more" in ids
    state, replies = advance(BOOK, state, Input.choice("more", state.seq))
    ids = [o.id for o in replies[-1].options]
    assert ids[:3] == [f"c{PAGE_SIZE + i}" for i in range(3)] and "prev" in ids and "more" not in ids


def test_state_round_trips_through_json():
    state, _ = run(Input.command("survey"), Input.text("王芳"))
    assert State.from_json(state.to_json()) == state
    assert State.from_json(None) == State()


def test_removed_step_restarts_flow_instead_of_crashing():
    state = State(flow="survey", step="gone", seq=3)
    state, replies = prompt(BOOK, state)
    assert state.step == "name" and keys(replies) == ["s.name"]


def test_advance_does_not_mutate_its_input():
    state, _ = run(Input.command("survey"))
    frozen = state.to_json()
    advance(BOOK, state, Input.text("王芳"))
    assert state.to_json() == frozen


def test_deep_link_payload_opens_its_flow():
    book = Book(flows=BOOK.flows, clauses=BOOK.clauses, deep_links={"v_": "survey"})
    state, replies = advance(book, State(), Input.command("start", "v_410225101201"))
    assert keys(replies) == ["core.welcome", "s.name"] and state.flow == "survey"
    assert state.data["start_payload"] == "v_410225101201"
    _, replies = advance(book, State(), Input.command("start", "other_payload"))
    assert keys(replies) == ["core.welcome", "menu.main"]


def test_a_commands_argument_is_the_first_answer():
    state, replies = advance(BOOK, State(), Input.command("survey", "王芳"))
    assert state.answers == {"arg": "王芳"} and keys(replies) == ["s.name"]
