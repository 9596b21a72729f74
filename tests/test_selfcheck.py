"""The self-check hooks (content/selfcheck.py): answers to a profile, skipping, result and details."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date

import pytest

from content import selfcheck
from content.book import load_book
from content.i18n import Translator
from dialogs.engine import advance
from dialogs.model import LANGUAGES, Input, Items, Money, Ref, Reply, State

STUDENT = (
    "yes",
    "technical_school",
    "junior_stopped",
    "age_15_30",
    "technical_school",
    "yes",
    "yes",
    "year_1",
)
ALL_UNSURE = ("unsure",) * 12
BEFORE_END, AFTER_END = "2019-05-01", "2026-11-26"


def play(
    presses: tuple[str, ...], lang: str = "zh_Hans", today: str | None = None
) -> tuple[State, list[Reply]]:
    """Open /check and press the buttons in order, on `today` (None: no date, as in the golden runner)."""
    book = load_book()
    state, out = advance(book, State(lang=lang), replace(Input.command("check"), today=today))
    for choice_id in presses:
        state, out = advance(book, state, replace(Input.choice(choice_id, state.seq), today=today))
    return state, [reply for reply in out if isinstance(reply, Reply)]


def params_of(reply: Reply) -> dict:
    """A reply's parameters as a dict."""
    return dict(reply.params)


def render(reply: Reply, lang: str) -> str:
    """A reply's text in one language."""
    return Translator(lang).render(reply).text


def state_at(step: str, history: list[str], answers: dict) -> State:
    """A state on a step of the check flow after the given steps and answers."""
    return State(flow="check", step=step, history=history, answers=answers, data={"today": BEFORE_END})


# ---------------------------------------------------------------- answers and dates


def test_answers_map_to_facts_and_unsure_stays_unknown():
    answers = {
        "household.registered_poor": True,
        "household.rural": "unsure",
        "person.education": {"person.education": "junior_high_graduate", "person.continued_study": False},
        "plan.study_year": 2,
        "detail": "tuition_waiver",
    }
    profile = selfcheck.profile_from_answers(answers, date(2019, 5, 1))
    assert profile.facts() == {
        "household.registered_poor": True,
        "person.education": "junior_high_graduate",
        "person.continued_study": False,
        "plan.study_year": 2,
    }


@pytest.mark.parametrize(
    ("fact", "value", "fits"),
    [
        ("plan.full_time", True, True),
        ("plan.full_time", "unsure", False),
        ("plan.study_year", 3, True),
        ("plan.study_year", True, False),
        ("plan.kind", "short_training", True),
        ("plan.kind", "unsure", False),
        ("detail", "tuition_waiver", False),
    ],
)
def test_only_valid_values_are_facts(fact, value, fits):
    assert selfcheck.fits_domain(fact, value) is fits


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (None, date(2020, 12, 31)),
        (date(2019, 5, 1), date(2019, 5, 1)),
        (date(2026, 11, 26), date(2026, 11, 26)),
    ],
)
def test_the_answers_are_evaluated_on_the_channels_day(today, expected):
    rules = load_book().context["rules"]
    assert selfcheck.evaluation_date(rules, today) == expected


def test_a_bad_channel_date_counts_as_no_date():
    assert selfcheck.channel_date(State(data={"today": "yesterday"})) is None
    assert selfcheck.channel_date(State(data={"today": "2019-05-01"})) == date(2019, 5, 1)


# ---------------------------------------------------------------- skipping


def skipped(step: str, history: list[str], answers: dict) -> bool:
    """Whether the check_irrelevant predicate skips `step` in that situation."""
    return selfcheck.question_cannot_matter(load_book(), state_at(step, history, answers))


def test_first_question_is_asked():
    assert not skipped("poor", [], {})


def test_age_is_asked_only_when_it_can_make_a_liang_hou_sheng():
    school_leaver = {
        "person.education": {"person.education": "junior_high_graduate", "person.continued_study": False}
    }
    poor = {"household.registered_poor": True}
    assert not skipped("age", ["poor", "education"], {**poor, **school_leaver})
    assert skipped("age", ["poor", "education"], {**poor, "person.education": "in_school"})
    assert skipped("age", ["poor"], {"household.registered_poor": False})


def test_ability_to_work_is_never_asked_because_no_benefit_names_it():
    assert skipped(
        "able", ["poor", "plan"], {"household.registered_poor": True, "plan.kind": "vocational_training"}
    )


def test_the_relation_is_asked_for_vocational_training_only():
    poor = {"household.registered_poor": True}
    assert not skipped("child", ["poor", "plan"], {**poor, "plan.kind": "vocational_training"})
    assert not skipped("child", ["poor", "plan"], {**poor, "plan.kind": "training"})
    assert skipped("child", ["poor", "plan"], {**poor, "plan.kind": "technical_school"})


def test_rural_matters_only_for_short_training():
    poor = {"household.registered_poor": True}
    assert skipped("rural", ["poor", "plan"], {**poor, "plan.kind": "technical_school"})
    assert not skipped("rural", ["poor", "plan"], {**poor, "plan.kind": "short_training"})
    assert not skipped("rural", ["poor", "plan"], {**poor, "plan.kind": "unsure"})


def test_not_poor_skips_everything_after():
    answers = {"household.registered_poor": False}
    for step in ("plan", "rural", "able", "education", "school", "full_time", "formal", "year", "project"):
        assert skipped(step, ["poor"], answers), step


def test_education_is_asked_for_the_liang_hou_sheng_goal():
    assert not skipped(
        "education", ["poor", "plan"], {"household.registered_poor": True, "plan.kind": "apprenticeship"}
    )


def test_study_year_is_asked_because_it_changes_the_grant():
    answers = {
        "household.registered_poor": True,
        "plan.kind": "technical_school",
        "plan.school_type": "technical_school",
        "plan.full_time": True,
        "plan.formal_enrollment": True,
    }
    assert not skipped("year", ["poor", "plan", "school", "full_time", "formal"], answers)


def test_later_answers_do_not_hide_an_earlier_question_on_back():
    # Back from the summary to "rural": the answer given there is not counted when deciding to skip it.
    answers = {"household.registered_poor": True, "plan.kind": "short_training", "household.rural": True}
    assert not skipped("rural", ["poor", "plan"], answers)


def test_a_step_without_a_fact_is_never_skipped():
    assert not skipped("result", ["poor"], {"household.registered_poor": False})


# ---------------------------------------------------------------- the summary


def summary_of(presses: tuple[str, ...], lang: str = "zh_Hans", today: str | None = BEFORE_END) -> Reply:
    """The summary reply after the presses."""
    _, replies = play(presses, lang, today)
    assert replies[-1].key == "check.summary"
    return replies[-1]


def refs(items: Items) -> list[Ref]:
    """The Refs of an Items parameter."""
    return [item for item in items.items if isinstance(item, Ref)]


def test_student_gets_tuition_grant_and_yulu_with_the_cash_total():
    params = params_of(summary_of(STUDENT))
    assert params["now"] == Ref("check.now_in_force")
    section = params["results"]
    assert section.key == "check.results_eligible"
    lines = refs(dict(section.params)["eligible"])
    names = [dict(line.params).get("name") for line in lines if line.key == "check.line_eligible"]
    assert names == ["免学费", "国家助学金", "雨露计划扶贫助学补助", "招生绿色通道和优先政策"]
    amounts = [dict(dict(line.params)["amount"].params).get("amount") for line in lines[:3]]
    assert amounts == [Money(1700), Money(2000), Money(3000)]
    assert lines[0].params[1][1].key == "check.amount_waiver"
    assert lines[-1] == Ref("check.total_cash_no_waiver", (("amount", Money(5000)),))
    assert dict(lines[0].params)["clause"] == "四（一）"


def test_student_summary_text():
    text = render(summary_of(STUDENT), "zh_Hans")
    assert "免学费：不用交学费，最多1700元（四（一））" in text
    assert "国家助学金：每年2000元（四（一））" in text
    assert "雨露计划扶贫助学补助：每年3000元（豫扶贫办〔2018〕21号）" in text  # the 3000 is not in 四（二）
    assert "合计：5000元（免学费不是发钱" in text
    assert text.count("\n• ") + text.startswith("• ") <= 5 + 2  # four benefits, the total, two caveats


def test_in_2017_the_yulu_grant_is_the_notices_2000_cited_to_its_clause():
    lines = refs(dict(params_of(summary_of(STUDENT, today="2017-09-01"))["results"].params)["eligible"])
    assert dict(lines[2].params)["clause"] == "四（二）"
    assert lines[-1] == Ref("check.total_cash_no_waiver", (("amount", Money(4000)),))


def test_third_year_student_gets_no_grant():
    text = render(summary_of((*STUDENT[:-1], "year_3")), "zh_Hans")
    assert "国家助学金" not in text.split("请注意")[0]
    assert "合计：3000元" in text


def test_before_the_end_of_2020_no_after_2020_caveats():
    text = render(summary_of(STUDENT, today=BEFORE_END), "zh_Hans")
    assert "已经结束" not in text and "雨露计划+" not in text and "现在可以去问" not in text


def test_after_2020_the_first_screen_says_what_to_ask_for_now_and_where():
    reply = summary_of(STUDENT, today=AFTER_END)
    params = params_of(reply)
    assert params["now"].key == "check.now_ask"
    assert params["results"].key == "check.history_eligible"
    text = render(reply, "zh_Hans")
    now, history = text.split("以前（2017年到2020年，已经结束）")
    assert "现在可以去问" in now and "✅" not in text  # nothing ended is shown as "yes"
    assert "免学费、国家助学金：问学校或县人社局" in now
    assert "雨露计划+（每年3000元，国乡振发〔2022〕6号）：问户籍所在县负责乡村振兴的部门" in now
    assert "免学费：不用交学费，最多1700元" in history  # the 2017 figures, after, as history
    caveats = text.split("请注意：")[1].split("\n\n")[0]
    assert caveats.count("• ") == 2  # at most two; the rest behind "更多说明"
    assert "已经结束" in caveats and "问学校或县人社局" in caveats
    assert [option.id for option in reply.options][:3] == ["details", "notes", "contact"]


def test_the_more_button_shows_every_caveat():
    _, replies = play((*STUDENT, "notes"), today=AFTER_END)
    text = render(replies[-1], "zh_Hans")
    assert "雨露计划+" in text and "5年过渡期" in text and "两后生" in text and "不是审批结果" in text


def test_chat_and_cli_give_the_same_answer_for_the_same_profile_and_day():
    import io
    import json

    from bot.cli.eligibility import run_eligibility

    _, replies = play((*STUDENT, "details"), today=AFTER_END)
    chat = {option.id: option.label for option in replies[-1].options if option.id not in ("back", "menu")}
    profile = {
        "household": {"registered_poor": True},
        "person": {"education": "junior_high_graduate", "continued_study": False, "age": 15},
        "plan": {"kind": "technical_school", "school_type": "technical_school", "full_time": True,
                 "formal_enrollment": True, "study_year": 1},
    }  # fmt: skip
    out = io.StringIO()
    run_eligibility("-", AFTER_END, stdin=io.StringIO(json.dumps(profile)), stdout=out)
    cli = {benefit["id"]: benefit for benefit in json.loads(out.getvalue())["benefits"]}
    for benefit_id, label in chat.items():
        state, eligible = cli[benefit_id]["state"], cli[benefit_id]["eligible"]
        expected = "check.button_ended" if state == "ended" else selfcheck.BUTTON_KEYS[eligible]
        assert label == expected, benefit_id
    assert chat["yulu_vocational"] == "check.button_maybe" and cli["yulu_vocational"]["state"] == "continued"


def test_without_a_date_only_the_2017_result_is_shown_as_history():
    reply = summary_of(STUDENT, today=None)
    assert params_of(reply)["now"].key == "check.now_no_date"
    text = render(reply, "zh_Hans")
    assert "没收到" not in text and "✅" not in text and "不是现在的规定" in text


def test_not_sure_answers_give_maybe_benefits_with_what_is_missing():
    section = params_of(summary_of(ALL_UNSURE))["results"]
    assert section.key == "check.results_maybe"
    maybe = refs(dict(section.params)["maybe"])
    assert len(maybe) == 9
    assert dict(maybe[0].params) == {
        "name": "免学费",
        "missing": "建档立卡贫困户、想做什么、学校、全日制、正式学籍",
    }


def test_mixed_answers_show_eligible_then_maybe():
    presses = (
        "yes",
        "technical_school",
        "junior_stopped",
        "age_15_30",
        "technical_school",
        "yes",
        "unsure",
        "year_1",
    )
    text = render(summary_of(presses), "zh_Hans")
    eligible, maybe = text.split("❓")[:2]
    assert "雨露计划扶贫助学补助：每年3000元" in eligible
    assert "免学费：还要确认正式学籍" in maybe


def test_training_not_sure_which_shows_both_trainings_as_maybe():
    presses = (
        "yes",
        "training",
        "yes",
        "yes",
    )  # poor, training (not sure which), rural, a child of the household
    _, replies = play((*presses, *("unsure",) * 8), today=BEFORE_END)
    maybe = refs(dict(params_of(replies[-1])["results"].params)["maybe"])
    names = [dict(line.params)["name"] for line in maybe]
    assert "职业培训补贴" in names and "雨露计划短期技能培训补助" in names


def test_not_poor_gets_none_and_the_caveats():
    reply = summary_of(("no",))
    assert params_of(reply)["results"].key == "check.results_none"
    assert "不是审批结果" in render(reply, "zh_Hans")


@pytest.mark.parametrize("today", [None, BEFORE_END, AFTER_END])
@pytest.mark.parametrize("presses", [STUDENT, ALL_UNSURE, ("no",)], ids=["student", "unsure", "not_poor"])
def test_summary_fits_one_forwardable_message(presses, today):
    if presses == ("no",) and today == AFTER_END:
        presses = (
            "no",
            "unsure",
            "unsure",
        )  # today 雨露计划+ may concern a family never registered: asked on
    chinese = render(summary_of(presses, "zh_Hans", today), "zh_Hans")
    english = render(summary_of(presses, "en", today), "en")
    assert len(chinese) <= 1500, len(chinese)
    assert len(english) <= 4096, len(english)  # English runs longer; one Telegram message still


# ---------------------------------------------------------------- details


def test_pick_lists_eligible_then_maybe_then_the_others():
    presses = ("yes", "technical_school", "junior_stopped", "age_15_30", "technical_school", "yes", "unsure")
    _, replies = play((*presses, "year_1", "details"), today=BEFORE_END)
    ids = [option.id for option in replies[-1].options]
    assert ids[:3] == ["yulu_vocational", "priority_services", "tuition_waiver"]
    assert ids[-2:] == ["back", "menu"] and len(ids) == 11
    labels = {option.id: option.label for option in replies[-1].options}
    assert labels["yulu_vocational"] == "check.button_eligible"
    assert labels["tuition_waiver"] == "check.button_maybe"
    assert labels["training_subsidy"] == "check.button_no"


def test_after_2020_no_button_says_yes_and_ended_ones_come_last():
    _, replies = play((*STUDENT, "details"), today=AFTER_END)
    labels = [option.label for option in replies[-1].options][:-2]
    assert "check.button_eligible" not in labels
    assert labels[-3:] == ["check.button_ended"] * 3


def test_detail_after_2020_says_now_then_why_what_to_prepare_where_and_the_clause():
    _, replies = play((*STUDENT, "details", "tuition_waiver"), today=AFTER_END)
    params = params_of(replies[-1])
    assert params["verdict"].key == "check.then_eligible"
    assert "请问学校或县人社局" in dict(params["now"].params)["text"]
    assert params["amount"] == Ref("check.amount_waiver", (("amount", Money(1700)),))
    assert params["source"] == "豫人社〔2017〕57号 四（一）"
    assert "✓ 全日制：是" in params["reasons"].items
    assert not any("钱数" in reason for reason in params["reasons"].items)  # the amount is shown once
    text = render(replies[-1], "zh_Hans")
    assert "学生的身份证和户口簿" in text and "去哪里办：就读的技校" in text and "✅" not in text


def test_detail_cites_the_outside_documents_of_amount_and_years():
    _, replies = play((*STUDENT, "details", "yulu_vocational"), today=BEFORE_END)
    assert params_of(replies[-1])["source"] == "豫人社〔2017〕57号 四（二）、豫扶贫办〔2018〕21号"
    _, replies = play((*STUDENT, "details", "national_grant"), today=BEFORE_END)
    assert params_of(replies[-1])["source"] == "豫人社〔2017〕57号 四（一）、财科教〔2016〕35号"


def test_detail_of_a_grant_not_paid_in_year_three():
    _, replies = play((*STUDENT[:-1], "year_3", "details", "national_grant"), today=BEFORE_END)
    params = params_of(replies[-1])
    assert params["verdict"].key == "check.verdict_no"
    assert "第3学年不发（财科教〔2016〕35号）" in params["reasons"].items[0]


def test_detail_reasons_are_words_not_field_dumps():
    presses = ("yes", "technical_school", "junior_stopped", "age_15_30", "vocational_high")
    _, replies = play((*presses, "details", "tuition_waiver"), today=BEFORE_END)
    assert "✗ 要在技校读书或培训，您的回答是“职高或中专”。" in params_of(replies[-1])["reasons"].items


def test_detail_of_a_maybe_benefit_says_what_is_missing():
    _, replies = play((*ALL_UNSURE, "details", "entrepreneurship_training"), lang="en", today=BEFORE_END)
    text = render(replies[-1], "en")
    assert "Maybe; still to confirm: registered poor household (建档立卡), plan" in text


# ---------------------------------------------------------------- every screen renders


SCREENS = [
    STUDENT,
    ALL_UNSURE,
    ("no",),
    (*STUDENT, "details"),
    (*STUDENT, "details", "tuition_waiver"),
    (*ALL_UNSURE, "details", "yulu_short_training"),
    (*STUDENT, "details", "priority_services"),
    (*STUDENT, "details", "yulu_vocational"),
    (*STUDENT, "notes"),
]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("presses", SCREENS)
def test_every_screen_renders_without_missing_keys(presses, lang, caplog):
    _, replies = play(presses, lang, AFTER_END)
    with caplog.at_level(logging.ERROR, logger="content.i18n"):
        rendered = Translator(lang).render(replies[-1])
    assert not caplog.records, caplog.text
    assert "check." not in rendered.text
    assert all("check." not in label for _, label in rendered.buttons)
