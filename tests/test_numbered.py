"""Typed numbers press the buttons of the question now open (`dialogs.engine.numbered`): for channels
whose buttons may not show (WeCom's 微工作台 shows no template cards) or show them numbered."""

from __future__ import annotations

from dataclasses import replace

from dialogs.engine import advance, numbered, prompt
from dialogs.model import Input, Reply, State
from tests.test_intake_dialog import TODAY, cmd, intake_book, press, run_until, step


def question(state: State) -> Reply:
    """The question the user sees now."""
    return [r for r in prompt(intake_book(), state).replies if isinstance(r, Reply) and r.options][-1]


def by_number(state: State, typed: str) -> tuple[State, list]:
    user_input = numbered(intake_book(), state, replace(Input.text(typed), today=TODAY))
    return advance(intake_book(), state, user_input)


def test_a_number_presses_that_button_of_the_menu_as_the_button_itself_would():
    menu, _ = step(State(), cmd("start"))
    second = question(menu).options[1]
    assert by_number(menu, "2") == step(menu, press(second.id))


def test_full_width_and_circled_digits_count_and_the_date_is_kept():
    menu, _ = step(State(), cmd("start"))
    pressed = numbered(intake_book(), menu, replace(Input.text(" ２ "), today=TODAY))
    assert pressed == replace(Input.choice(question(menu).options[1].id, menu.seq), today=TODAY)
    assert numbered(intake_book(), menu, Input.text("①")).value == question(menu).options[0].id


def test_a_number_beyond_the_buttons_or_not_a_number_stays_text():
    menu, _ = step(State(), cmd("start"))
    for typed in ("0", "99", "2a", "", "12345"):
        assert numbered(intake_book(), menu, Input.text(typed)) == Input.text(typed)


def test_where_the_answer_is_typed_a_number_is_the_answer():
    at_age = run_until("m_age")
    assert numbered(intake_book(), at_age, Input.text("2")) == Input.text("2")


def test_open_questions_language_and_cancel_take_numbers_too():
    menu, _ = step(State(), cmd("start"))
    asking, _ = step(menu, cmd("language"))
    chosen, _ = by_number(asking, "2")
    assert chosen.lang == "en" and chosen.mode is None
    midway, _ = step(State(), cmd("intake"))
    midway, _ = step(midway, press("worker"))
    cancelling, _ = step(midway, cmd("cancel"))
    kept, _ = by_number(cancelling, "2")  # 2 = keep going
    assert kept.flow == "intake" and kept.mode is None


def test_commands_and_button_presses_pass_unchanged():
    menu, _ = step(State(), cmd("start"))
    for user_input in (cmd("help"), Input.choice("explain", menu.seq), Input("other")):
        assert numbered(intake_book(), menu, user_input) is user_input
